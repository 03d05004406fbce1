import { useEffect, useState, type FormEvent } from "react";
import { useParams } from "react-router-dom";
import { ApiError, rawApi, type QuoteView } from "../api/client";
import { Field } from "../components/Field";
import { ACTION_LABELS, formatDate, formatDateTime, formatMoney, label, OUTCOME_LABELS } from "../i18n";

// The page behind the action links of the mails (DESIGN §8): no sign-in, the link is the
// credential. Opening it changes nothing (GET); the button performs the decision (POST).
interface LinkInfo {
  action: string;
  state: string;
  expires_at: string;
  ticket: { number: number; title: string; status: string; status_label: string; quote?: QuoteView | null };
}

const NEEDS_REASON = new Set(["refuse-quote", "reopen"]);

const STATE_MESSAGES: Record<string, string> = {
  used: "Ce lien a déjà servi : la décision est enregistrée.",
  expired: "Ce lien a expiré.",
  superseded: "Ce lien ne vaut plus : le ticket a changé depuis le courriel.",
};

export function linkProblem(exc: unknown): string {
  if (exc instanceof ApiError) {
    if (exc.status === 404) return "Ce lien est inconnu. Vérifiez qu'il a été copié en entier.";
    if (exc.status === 410) {
      const state = (exc.problem as { state?: string }).state ?? "";
      return STATE_MESSAGES[state] ?? "Ce lien ne vaut plus.";
    }
    return `Le serveur a refusé la demande (${exc.status}).`;
  }
  return "Le serveur ne répond pas : réessayez plus tard.";
}

export default function LinkPage() {
  const { token = "" } = useParams();
  const [info, setInfo] = useState<LinkInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const path = `/links/${encodeURIComponent(token)}`;

  useEffect(() => {
    document.title = "Votre décision – Helpdesk";
    rawApi<LinkInfo>(path, { anonymous: true })
      .then(setInfo)
      .catch((exc: unknown) => setError(linkProblem(exc)));
  }, [path]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!info) return;
    setBusy(true);
    try {
      const body = NEEDS_REASON.has(info.action) ? { reason } : {};
      const ticket = await rawApi<{ status_label: string }>(path, {
        method: "POST",
        anonymous: true,
        body: JSON.stringify(body),
      });
      setDone(`C'est fait. Le ticket est maintenant : ${ticket.status_label}.`);
    } catch (exc) {
      setError(linkProblem(exc));
    } finally {
      setBusy(false);
    }
  };

  const name = info ? (ACTION_LABELS[info.action] ?? info.action) : "";
  const quote = info?.ticket.quote;

  return (
    <main id="main" className="page narrow">
      <h1>Votre décision</h1>
      {error && <p role="alert" className="error">{error}</p>}
      {done && <p role="status" className="notice">{done}</p>}
      {!info && !error && <p role="status">Chargement…</p>}
      {info && !done && !error && (
        <>
          <h2>
            #{info.ticket.number} {info.ticket.title}
          </h2>
          <p>Statut : {info.ticket.status_label}</p>
          {quote && (
            <p>
              Chiffrage : {formatMoney(quote.amount)}
              {quote.days ? `, ${quote.days.replace(".", ",")} jours` : ""}, {label(OUTCOME_LABELS, quote.outcome)}
              {quote.valid_until ? `, valable jusqu'au ${formatDate(quote.valid_until)}` : ""}
            </p>
          )}
          <p>Ce lien est valable jusqu'au {formatDateTime(info.expires_at)}.</p>
          <form onSubmit={submit}>
            {NEEDS_REASON.has(info.action) && (
              <Field label="Motif">
                {(id) => <textarea id={id} required rows={3} value={reason} onChange={(e) => setReason(e.target.value)} />}
              </Field>
            )}
            <button type="submit" className="primary" disabled={busy}>
              {name}
            </button>
          </form>
        </>
      )}
    </main>
  );
}
