import { useEffect, useState } from "react";
import { ApiError, frenchError, rawApi } from "../api/client";
import { formatDateTime } from "../i18n";
import { useCaller } from "../session";

interface Quarantined {
  id: string;
  received_at: string;
  from: string;
  to: string;
  subject: string;
  reason: string;
  size: number;
  url?: string;
}

export default function Quarantine() {
  const caller = useCaller();
  const [items, setItems] = useState<Quarantined[] | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    document.title = "Quarantaine – Helpdesk";
    if (caller.role !== "manager") return;
    // GET /mail/quarantine (§7) is not in docs/openapi.json yet.
    rawApi<{ items: Quarantined[] }>("/mail/quarantine")
      .then((data) => setItems(data.items))
      .catch((exc: unknown) => {
        setItems([]);
        setMessage(
          exc instanceof ApiError && exc.status === 404
            ? "La quarantaine des courriels n'est pas encore disponible dans l'API."
            : frenchError(exc),
        );
      });
  }, [caller.role]);

  if (caller.role !== "manager") {
    return (
      <>
        <h1>Quarantaine</h1>
        <p role="alert">Cette page est réservée aux managers.</p>
      </>
    );
  }
  return (
    <>
      <h1>Quarantaine</h1>
      <p>Les courriels reçus qui ne sont devenus ni un ticket ni un commentaire.</p>
      {message && <p role="status" className="notice">{message}</p>}
      {items === null ? (
        <p role="status">Chargement…</p>
      ) : items.length === 0 ? (
        !message && <p>Aucun courriel en quarantaine.</p>
      ) : (
        <ul className="cards">
          {items.map((item) => (
            <li key={item.id} className="card">
              <h2>{item.subject || "(sans objet)"}</h2>
              <p>
                De {item.from} à {item.to}, reçu {formatDateTime(item.received_at)} ({item.size} o). Motif : {item.reason}
              </p>
              {item.url && <a href={item.url}>Télécharger le message brut <span className="sr-only">{item.subject}</span></a>}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
