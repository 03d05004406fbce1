import { useEffect, useState } from "react";
import { useNavigate } from "react-router-dom";
import { cognitoCallback } from "../auth";
import { useSession } from "../session";

export default function Callback() {
  const { setSession } = useSession();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    cognitoCallback()
      .then((session) => {
        setSession(session);
        navigate(session?.role === "finance" ? "/billing" : "/tickets", { replace: true });
      })
      .catch((exc: unknown) => setError(String(exc)));
  }, [navigate, setSession]);
  return (
    <main id="main" className="page narrow">
      <h1>Connexion</h1>
      {error ? <p role="alert">La connexion a échoué : {error}</p> : <p role="status">Connexion en cours…</p>}
    </main>
  );
}
