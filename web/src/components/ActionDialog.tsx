import { useEffect, useState, type FormEvent } from "react";
import { api, unwrap, type ActionBody, type Consultant, type TicketView } from "../api/client";
import { ACTION_LABELS, PRIORITY_LABELS, TYPE_LABELS } from "../i18n";
import type { Session } from "../auth";
import { Dialog } from "./Dialog";
import { Field } from "./Field";

/** The inputs each action asks for (DESIGN §2, §9); the others are performed at once. */
export const ACTION_FIELDS: Record<string, Array<keyof ActionBody>> = {
  take: ["assignee", "priority", "type"],
  escalate: ["assignee", "reason"],
  hold: ["reason"],
  "submit-quote": ["amount", "days", "description"],
  "refuse-quote": ["reason"],
  "withdraw-quote": ["reason"],
  "send-answer": ["message"],
  reopen: ["reason"],
  close: ["note"],
  cancel: ["reason"],
  assign: ["assignee"],
};

const REQUIRED: Record<string, Array<keyof ActionBody>> = {
  "submit-quote": ["amount"],
  "refuse-quote": ["reason"],
  "send-answer": ["message"],
  reopen: ["reason"],
  close: ["note"],
  assign: ["assignee"],
};

function targetLevel(action: string, ticket: TicketView): number {
  return action === "escalate" ? ticket.support_level + 1 : ticket.support_level;
}

export function ActionDialog({
  action,
  ticket,
  caller,
  onSubmit,
  onClose,
}: {
  action: string;
  ticket: TicketView;
  caller: Session;
  onSubmit: (body: ActionBody) => Promise<void>;
  onClose: () => void;
}) {
  const name = ACTION_LABELS[action] ?? action;
  const fields = ACTION_FIELDS[action] ?? [];
  const required = new Set<string>(REQUIRED[action] ?? []);
  if (action === "cancel" && caller.role !== "client") required.add("reason");
  if (action === "take" && caller.role === "manager") required.add("assignee");
  const level = targetLevel(action, ticket);
  // undefined while the roster loads (the dialog opens once it is known), null if unreadable.
  const [roster, setRoster] = useState<Consultant[] | null | undefined>(() =>
    fields.includes("assignee") ? undefined : null,
  );
  const [values, setValues] = useState<Record<string, string>>(() => ({
    assignee: action === "take" && caller.role === "consultant" ? caller.sub : "",
    priority: ticket.priority ?? "normal",
    type: ticket.type,
  }));
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!fields.includes("assignee")) return;
    // The roster (readable by consultants and managers): active consultants of the level.
    api()
      .GET("/consultants", { params: { query: { level, active: "true" } } })
      .then((result) =>
        setRoster(unwrap(result).items.filter((c) => c.active && c.role === "consultant" && c.level === level)),
      )
      .catch(() => setRoster(null));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const set = (key: string, value: string) => setValues((v) => ({ ...v, [key]: value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body: Record<string, unknown> = {};
    for (const field of fields) {
      const value = (values[field] ?? "").trim();
      if (value === "") continue;
      if (field === "amount" || field === "days") body[field] = value.replace(",", ".").replace(/\s/g, "");
      else body[field] = value;
    }
    setBusy(true);
    try {
      await onSubmit(body as ActionBody);
    } finally {
      setBusy(false);
    }
  };

  if (roster === undefined) return null;

  return (
    <Dialog title={`${name} – #${ticket.number}`} onClose={onClose}>
      <form onSubmit={submit}>
        {fields.includes("assignee") && (
          <Field label="Consultant" hint={`Un consultant de niveau ${level}${required.has("assignee") ? "" : " (facultatif)"}.`}>
            {(id) =>
              roster && roster.length > 0 ? (
                <select id={id} value={values.assignee ?? ""} required={required.has("assignee")} onChange={(e) => set("assignee", e.target.value)}>
                  <option value="">{action === "escalate" ? "File d'attente du niveau" : "— choisir —"}</option>
                  {roster.map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.name} ({c.id})
                    </option>
                  ))}
                </select>
              ) : (
                <input id={id} value={values.assignee ?? ""} required={required.has("assignee")} onChange={(e) => set("assignee", e.target.value)} autoComplete="off" />
              )
            }
          </Field>
        )}
        {fields.includes("priority") && (
          <Field label="Priorité">
            {(id) => (
              <select id={id} value={values.priority} onChange={(e) => set("priority", e.target.value)}>
                {Object.entries(PRIORITY_LABELS).map(([code, text]) => (
                  <option key={code} value={code}>{text}</option>
                ))}
              </select>
            )}
          </Field>
        )}
        {fields.includes("type") && (
          <Field label="Type">
            {(id) => (
              <select id={id} value={values.type} onChange={(e) => set("type", e.target.value)}>
                {Object.entries(TYPE_LABELS).map(([code, text]) => (
                  <option key={code} value={code}>{text}</option>
                ))}
              </select>
            )}
          </Field>
        )}
        {fields.includes("amount") && (
          <Field label="Montant (€)" hint="Par exemple 1200.00">
            {(id) => (
              <input id={id} inputMode="decimal" required pattern="[0-9 ]+([.,][0-9]{1,2})?" value={values.amount ?? ""} onChange={(e) => set("amount", e.target.value)} />
            )}
          </Field>
        )}
        {fields.includes("days") && (
          <Field label="Jours">
            {(id) => <input id={id} inputMode="decimal" pattern="[0-9]+([.,][0-9]{1,2})?" value={values.days ?? ""} onChange={(e) => set("days", e.target.value)} />}
          </Field>
        )}
        {fields.includes("description") && (
          <Field label="Description">
            {(id) => <textarea id={id} rows={3} value={values.description ?? ""} onChange={(e) => set("description", e.target.value)} />}
          </Field>
        )}
        {fields.includes("reason") && (
          <Field label="Motif">
            {(id) => <textarea id={id} rows={3} required={required.has("reason")} value={values.reason ?? ""} onChange={(e) => set("reason", e.target.value)} />}
          </Field>
        )}
        {fields.includes("message") && (
          <Field label="Réponse">
            {(id) => <textarea id={id} rows={5} required value={values.message ?? ""} onChange={(e) => set("message", e.target.value)} />}
          </Field>
        )}
        {fields.includes("note") && (
          <Field label="Note">
            {(id) => <textarea id={id} rows={3} required value={values.note ?? ""} onChange={(e) => set("note", e.target.value)} />}
          </Field>
        )}
        <div className="buttons">
          <button type="submit" className="primary" disabled={busy}>
            {name}
          </button>
          <button type="button" onClick={onClose}>
            Retour
          </button>
        </div>
      </form>
    </Dialog>
  );
}
