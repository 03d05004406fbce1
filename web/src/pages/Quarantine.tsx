import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { api, ApiError, frenchError, unwrap, type Org, type Schemas } from "../api/client";
import { Dialog } from "../components/Dialog";
import { Field } from "../components/Field";
import { TYPE_LABELS, formatDateTime, label } from "../i18n";
import { useCaller } from "../session";

type Quarantined = Schemas["QuarantinedMailOut"];
type TicketType = NonNullable<Schemas["ReleaseIn"]["type"]>;

const REASON_LABELS: Record<string, string> = {
  oversized: "message trop volumineux",
  malformed: "message mal formé",
  unknown_sender: "expéditeur inconnu",
  unknown_recipient: "destinataire inconnu",
  stranger_reply: "réponse d'un tiers au ticket",
  invalid_content: "contenu invalide",
};

/** The release's errors in French (DESIGN §9). */
function releaseError(exc: unknown): string {
  if (exc instanceof ApiError) {
    const detail = exc.problem.detail ? ` (${exc.problem.detail})` : "";
    if (exc.status === 409) return `Ce courriel ne peut pas être libéré : il l'a déjà été, ou le ticket n'accepte pas de commentaire${detail}.`;
    if (exc.status === 404) return `Introuvable : ce courriel, cette organisation ou ce ticket n'existe pas${detail}.`;
    if (exc.status === 422) return `Saisie invalide : vérifiez l'organisation, le type ou le numéro de ticket${detail}.`;
  }
  return frenchError(exc);
}

function ReleaseDialog({ item, orgs, onDone, onClose }: {
  item: Quarantined;
  orgs: Org[] | null;
  onDone: (text: string) => void;
  onClose: () => void;
}) {
  const [as, setAs] = useState<"ticket" | "comment">("ticket");
  const [orgId, setOrgId] = useState("");
  const [type, setType] = useState<TicketType>("assistance");
  const [ticket, setTicket] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body =
        as === "ticket"
          ? { as, org_id: orgId.trim(), type }
          : { as, ticket: Number(ticket.replace(/^#/, "")) };
      const done = unwrap(await api().POST("/mail/quarantine/{id}/release", { params: { path: { id: item.id } }, body }));
      onDone(
        as === "ticket"
          ? `Courriel libéré : ticket #${done.ticket_number} créé.`
          : `Courriel libéré : commentaire ajouté au ticket #${done.ticket_number}.`,
      );
    } catch (exc) {
      setError(releaseError(exc));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title={`Libérer « ${item.subject || "(sans objet)"} »`} onClose={onClose}>
      <form onSubmit={submit}>
        {error && <p role="alert" className="error">{error}</p>}
        <Field label="Libérer comme">
          {(id) => (
            <select id={id} value={as} onChange={(e) => setAs(e.target.value as "ticket" | "comment")}>
              <option value="ticket">nouveau ticket</option>
              <option value="comment">commentaire d'un ticket</option>
            </select>
          )}
        </Field>
        {as === "ticket" ? (
          <>
            <Field label="Organisation">
              {(id) =>
                orgs && orgs.length > 0 ? (
                  <select id={id} required value={orgId} onChange={(e) => setOrgId(e.target.value)}>
                    <option value="">— choisir —</option>
                    {orgs.map((org) => (
                      <option key={org.org_id} value={org.org_id}>{org.name} ({org.org_id})</option>
                    ))}
                  </select>
                ) : (
                  <input id={id} required value={orgId} onChange={(e) => setOrgId(e.target.value)} />
                )
              }
            </Field>
            <Field label="Type">
              {(id) => (
                <select id={id} value={type} onChange={(e) => setType(e.target.value as TicketType)}>
                  {Object.entries(TYPE_LABELS).map(([code, text]) => (
                    <option key={code} value={code}>{text}</option>
                  ))}
                </select>
              )}
            </Field>
          </>
        ) : (
          <Field label="Numéro du ticket">
            {(id) => <input id={id} required inputMode="numeric" pattern="#?[0-9]+" value={ticket} onChange={(e) => setTicket(e.target.value)} />}
          </Field>
        )}
        <div className="buttons">
          <button type="submit" className="primary" disabled={busy}>
            Libérer
          </button>
          <button type="button" onClick={onClose}>
            Retour
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export default function Quarantine() {
  const caller = useCaller();
  const manager = caller.role === "manager";
  const [items, setItems] = useState<Quarantined[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [orgs, setOrgs] = useState<Org[] | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [releasing, setReleasing] = useState<Quarantined | null>(null);

  const load = useCallback(async (more: string | null) => {
    try {
      const data = unwrap(await api().GET("/mail/quarantine", { params: { query: more ? { cursor: more } : {} } }));
      setItems((previous) => (more && previous ? [...previous, ...data.items] : data.items));
      setCursor(data.next_cursor ?? null);
    } catch (exc) {
      setItems((previous) => previous ?? []);
      setMessage(frenchError(exc));
    }
  }, []);

  useEffect(() => {
    document.title = "Quarantaine – Helpdesk";
    if (!manager) return;
    void load(null);
    api()
      .GET("/orgs")
      .then((result) => setOrgs(unwrap(result).items))
      .catch(() => setOrgs(null));
  }, [manager, load]);

  if (!manager) {
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
      <div aria-live="polite">{message && <p className="notice">{message}</p>}</div>
      {items === null ? (
        <p role="status">Chargement…</p>
      ) : items.length === 0 ? (
        <p>Aucun courriel en quarantaine.</p>
      ) : (
        <table>
          <caption className="sr-only">Courriels en quarantaine</caption>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Expéditeur</th>
              <th scope="col">Objet</th>
              <th scope="col">Motif</th>
              <th scope="col">Message brut</th>
              <th scope="col"><span className="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.id}>
                <td>{item.received_at ? formatDateTime(item.received_at) : "—"}</td>
                <td>{item.from ?? "—"}</td>
                <td>{item.subject || "(sans objet)"}</td>
                <td>
                  {label(REASON_LABELS, item.reason)}
                  {item.detail ? ` (${item.detail})` : ""}
                  {item.defects && (
                    <>
                      <br />
                      <small>Structure MIME défectueuse, lue quand même : {item.defects}</small>
                    </>
                  )}
                </td>
                <td>
                  <a href={item.url}>
                    Télécharger <span className="sr-only">le message brut de {item.subject || item.id}</span>
                  </a>
                </td>
                <td>
                  <button type="button" onClick={() => { setMessage(null); setReleasing(item); }}>
                    Libérer <span className="sr-only">{item.subject || item.id}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" onClick={() => void load(cursor)}>
          Afficher plus
        </button>
      )}
      <p>
        <Link to="/tickets">Retour aux tickets</Link>
      </p>
      {releasing && (
        <ReleaseDialog
          item={releasing}
          orgs={orgs}
          onClose={() => setReleasing(null)}
          onDone={(text) => {
            setReleasing(null);
            setMessage(text);
            void load(null);
          }}
        />
      )}
    </>
  );
}
