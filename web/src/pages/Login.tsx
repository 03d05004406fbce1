import { useEffect, useState, type FormEvent } from "react";
import { Navigate, useLocation, useNavigate } from "react-router-dom";
import { cognitoSignIn, localToken, signInWithToken, type Session } from "../auth";
import { config, type DemoUser } from "../config";
import { useSession } from "../session";

const GROUP_LABELS: Record<string, string> = {
  clients: "client",
  "consultants-l1": "consultant niveau 1",
  "consultants-l2": "consultant niveau 2",
  "consultants-l3": "consultant niveau 3",
  managers: "manager",
  finance: "finance",
};

export function Login() {
  const { session, setSession } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const cfg = config();
  const from = (location.state as { from?: string } | null)?.from;

  useEffect(() => {
    document.title = "Connexion – Helpdesk";
  }, []);

  if (session) return <Navigate to={from ?? (session.role === "finance" ? "/billing" : "/tickets")} replace />;

  const done = (next: Session | null) => {
    if (next === null) {
      setError("Ce jeton n'est pas un JWT lisible.");
      return;
    }
    setSession(next);
    navigate(from ?? (next.role === "finance" ? "/billing" : "/tickets"), { replace: true });
  };

  const asUser = async (user: DemoUser) => {
    setBusy(true);
    setError(null);
    try {
      done(signInWithToken(await localToken(user)));
    } catch (exc) {
      setError(`Connexion impossible : ${String(exc)}`);
    } finally {
      setBusy(false);
    }
  };

  const withToken = (event: FormEvent) => {
    event.preventDefault();
    done(signInWithToken(token));
  };

  return (
    <main id="main" className="page narrow">
      <h1>Connexion</h1>
      {error && <p role="alert" className="error">{error}</p>}
      {cfg.authMode === "cognito" ? (
        <button type="button" className="primary" onClick={() => void cognitoSignIn()}>
          Se connecter
        </button>
      ) : (
        <>
          <h2>Utilisateurs de démonstration</h2>
          <ul className="users">
            {(cfg.demoUsers ?? []).map((user) => {
              const group = GROUP_LABELS[user.groups[0]] ?? user.groups.join(", ");
              const org = user.org_id ? `, ${user.org_id}` : "";
              return (
                <li key={user.sub}>
                  <button type="button" disabled={busy} onClick={() => void asUser(user)}>
                    Se connecter en tant que {user.sub} ({group}
                    {org})
                  </button>
                </li>
              );
            })}
          </ul>
          <h2>Avec un jeton</h2>
          <form onSubmit={withToken}>
            <label htmlFor="token">Jeton</label>
            <textarea id="token" rows={3} value={token} onChange={(e) => setToken(e.target.value)} required />
            <button type="submit" className="primary">
              Se connecter
            </button>
          </form>
        </>
      )}
    </main>
  );
}
