import { useEffect, useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";
import { isStaff } from "../auth";
import { api, frenchError, unwrap, type Org } from "../api/client";
import { Field } from "../components/Field";
import { TYPE_LABELS } from "../i18n";
import { useCaller } from "../session";

type TicketType = "assistance" | "incident" | "evolution";

export default function NewTicket() {
  const caller = useCaller();
  const staff = isStaff(caller);
  const navigate = useNavigate();
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [type, setType] = useState<TicketType>("assistance");
  const [orgId, setOrgId] = useState("");
  const [orgs, setOrgs] = useState<Org[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // One key per form: a retried submission gives the same ticket (Idempotency-Key).
  const [key] = useState(() => crypto.randomUUID());

  useEffect(() => {
    document.title = "Nouveau ticket – Helpdesk";
    if (!staff) return;
    // GET /orgs (staff): the select's choices; a text field only if it cannot be read.
    api()
      .GET("/orgs")
      .then((result) => setOrgs(unwrap(result).items))
      .catch(() => setOrgs(null));
  }, [staff]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const ticket = unwrap(
        await api().POST("/tickets", {
          params: { header: { "idempotency-key": key } },
          body: { title, description, type, ...(staff ? { org_id: orgId } : {}) },
        }),
      );
      navigate(`/tickets/${ticket.number}`);
    } catch (exc) {
      setError(frenchError(exc));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h1>Nouveau ticket</h1>
      {error && <p role="alert" className="error">{error}</p>}
      <form onSubmit={submit} className="stack">
        <Field label="Titre">
          {(id) => <input id={id} required maxLength={1000} value={title} onChange={(e) => setTitle(e.target.value)} />}
        </Field>
        <Field label="Description">
          {(id) => <textarea id={id} rows={6} value={description} onChange={(e) => setDescription(e.target.value)} />}
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
        {staff && (
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
                <input id={id} required value={orgId} onChange={(e) => setOrgId(e.target.value)} placeholder="identifiant, par exemple acme" />
              )
            }
          </Field>
        )}
        <button type="submit" className="primary" disabled={busy}>
          Créer le ticket
        </button>
      </form>
    </>
  );
}
