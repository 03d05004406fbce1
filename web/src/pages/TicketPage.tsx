import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { isStaff } from "../auth";
import {
  api,
  ApiError,
  frenchError,
  unwrap,
  type ActionBody,
  type Comment,
  type HistoryEvent,
  type QuoteView,
  type SlaClock,
  type Task,
  type TicketView,
  type TimeEntry,
} from "../api/client";
import type { operations } from "../api/schema";
import { ACTION_FIELDS, ActionDialog } from "../components/ActionDialog";
import { Attachments } from "../components/Attachments";
import { Dialog } from "../components/Dialog";
import { Field } from "../components/Field";
import {
  ACTION_LABELS,
  CLOSURE_LABELS,
  HISTORY_LABELS,
  KIND_LABELS,
  OUTCOME_LABELS,
  PRIORITY_LABELS,
  SLA_STATE_LABELS,
  STATUS_LABELS,
  TYPE_LABELS,
  formatDate,
  formatDateTime,
  formatDetail,
  formatMoney,
  label,
  monthLabel,
  parisToday,
} from "../i18n";
import { useCaller } from "../session";

type ActionName = operations["performAction"]["parameters"]["path"]["action"];
type Priority = NonNullable<operations["editTicket"]["requestBody"]["content"]["application/json"]["priority"]>;

interface Extras {
  comments: Comment[];
  history: HistoryEvent[];
  quotes: QuoteView[];
  tasks: Task[];
  entries: TimeEntry[];
}

const EMPTY: Extras = { comments: [], history: [], quotes: [], tasks: [], entries: [] };

function validUntil(quote: QuoteView): string | null {
  if (quote.valid_until) return quote.valid_until;
  if (!quote.submitted_at || !quote.validity_days) return null;
  const date = new Date(quote.submitted_at);
  date.setUTCDate(date.getUTCDate() + quote.validity_days);
  return date.toISOString();
}

function Clock({ name, clock }: { name: string; clock: SlaClock | undefined }) {
  if (!clock) return null;
  const late = clock.remaining_minutes < 0;
  return (
    <li>
      <strong>{name}</strong> : {label(SLA_STATE_LABELS, clock.state)}, objectif {clock.target_minutes} min ouvrées
      {clock.due_at && `, échéance ${formatDateTime(clock.due_at)}`}
      {clock.state === "running" || clock.state === "paused"
        ? late
          ? `, en retard de ${-clock.remaining_minutes} min`
          : `, reste ${clock.remaining_minutes} min`
        : ""}
      {clock.done_at && `, atteint ${formatDateTime(clock.done_at)}`}
    </li>
  );
}

export default function TicketPage() {
  const { number: numberParam } = useParams();
  const number = Number(numberParam);
  const caller = useCaller();
  const staff = isStaff(caller);
  const [ticket, setTicket] = useState<TicketView | null>(null);
  const [extras, setExtras] = useState<Extras>(EMPTY);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [dialog, setDialog] = useState<string | null>(null);
  const [message, setMessage] = useState("");
  const [internal, setInternal] = useState(false);
  const [time, setTime] = useState({ minutes: "", date: parisToday(), kind: "analysis", comment: "" });
  const [busy, setBusy] = useState(false);
  const [edit, setEdit] = useState<{ title: string; description: string; priority: string } | null>(null);

  const load = useCallback(async () => {
    const path = { params: { path: { number } } };
    try {
      const current = unwrap(await api().GET("/tickets/{number}", path)) as TicketView;
      setTicket(current);
      setError(null);
      document.title = `#${current.number} ${current.title} – Helpdesk`;
      const [comments, history, quotes, tasks, entries] = await Promise.all([
        api().GET("/tickets/{number}/comments", path).then(unwrap).then((d) => d.items),
        api().GET("/tickets/{number}/history", path).then(unwrap).then((d) => d.items),
        current.type === "evolution"
          ? api().GET("/tickets/{number}/quotes", path).then(unwrap).then((d) => d.items as QuoteView[])
          : Promise.resolve([]),
        staff ? api().GET("/tickets/{number}/tasks", path).then(unwrap).then((d) => d.items) : Promise.resolve([]),
        staff ? api().GET("/tickets/{number}/time-entries", path).then(unwrap).then((d) => d.items) : Promise.resolve([]),
      ]);
      setExtras({ comments, history, quotes, tasks, entries });
    } catch (exc) {
      setError(
        exc instanceof ApiError && exc.status === 404
          ? `Le ticket #${number} est introuvable, ou vous n'y avez pas accès.`
          : frenchError(exc),
      );
    }
  }, [number, staff]);

  useEffect(() => {
    setTicket(null);
    setExtras(EMPTY);
    void load();
  }, [load]);

  const perform = async (action: string, body: ActionBody = {}) => {
    if (!ticket) return;
    setBusy(true);
    setNotice(null);
    try {
      const result = await api().POST("/tickets/{number}/actions/{action}", {
        params: {
          path: { number, action: action as ActionName },
          header: { "if-match": `"${ticket.version}"` },
        },
        body,
      });
      const updated = unwrap(result) as TicketView;
      setTicket(updated);
      setDialog(null);
      setNotice(`${ACTION_LABELS[action] ?? action} : fait. Statut : ${updated.status_label}.`);
      await load();
    } catch (exc) {
      if (exc instanceof ApiError && (exc.status === 409 || exc.status === 412)) {
        setDialog(null);
        setNotice("Le ticket a été modifié entre-temps : il est affiché à nouveau, vérifiez avant de recommencer.");
        await load();
      } else {
        setNotice(frenchError(exc));
      }
    } finally {
      setBusy(false);
    }
  };

  const saveEdit = async (event: FormEvent) => {
    event.preventDefault();
    if (!ticket || !edit) return;
    const body: { title?: string; description?: string; priority?: Priority } = {};
    if (edit.title.trim() !== ticket.title) body.title = edit.title.trim();
    if (edit.description !== (ticket.description ?? "")) body.description = edit.description;
    if (staff && edit.priority !== ticket.priority) body.priority = edit.priority as Priority;
    if (Object.keys(body).length === 0) {
      setEdit(null);
      return;
    }
    setBusy(true);
    setNotice(null);
    try {
      const updated = unwrap(
        await api().PATCH("/tickets/{number}", {
          params: { path: { number }, header: { "if-match": `"${ticket.version}"` } },
          body,
        }),
      ) as TicketView;
      setTicket(updated);
      setEdit(null);
      setNotice("Ticket modifié.");
      await load();
    } catch (exc) {
      if (exc instanceof ApiError && (exc.status === 409 || exc.status === 412)) {
        setEdit(null);
        setNotice("Le ticket a été modifié entre-temps : il est affiché à nouveau, vérifiez avant de recommencer.");
        await load();
      } else {
        setNotice(frenchError(exc));
      }
    } finally {
      setBusy(false);
    }
  };

  const onAction = (action: string) => {
    if ((ACTION_FIELDS[action] ?? []).length > 0) setDialog(action);
    else void perform(action);
  };

  const sendComment = async (event: FormEvent) => {
    event.preventDefault();
    if (!message.trim()) return;
    setBusy(true);
    try {
      unwrap(
        await api().POST("/tickets/{number}/comments", {
          params: { path: { number } },
          body: { body: message, internal: staff && internal },
        }),
      );
      setMessage("");
      setInternal(false);
      setNotice("Message envoyé.");
      await load();
    } catch (exc) {
      setNotice(frenchError(exc));
    } finally {
      setBusy(false);
    }
  };

  const logTime = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      unwrap(
        await api().POST("/tickets/{number}/time-entries", {
          params: { path: { number } },
          body: {
            minutes: Number(time.minutes),
            date: time.date || null,
            kind: time.kind as "analysis" | "realisation",
            comment: time.comment,
          },
        }),
      );
      setTime({ minutes: "", date: parisToday(), kind: time.kind, comment: "" });
      setNotice("Temps enregistré.");
      await load();
    } catch (exc) {
      setNotice(frenchError(exc));
    } finally {
      setBusy(false);
    }
  };

  if (error) {
    return (
      <>
        <h1>Ticket #{numberParam}</h1>
        <p role="alert" className="error">{error}</p>
        <p>
          <Link to="/tickets">Retour aux tickets</Link>
        </p>
      </>
    );
  }
  if (!ticket) return <p role="status">Chargement…</p>;

  const conversation = [
    ...extras.comments.map((c) => ({ key: `c-${c.id}`, at: c.at, author: c.author, body: c.body, internal: c.internal, kind: c.source === "email" ? "courriel" : "message" })),
    ...extras.history
      .filter((h) => h.action === "send-answer" && h.details.message)
      .map((h) => ({ key: `a-${h.version}`, at: h.at, author: h.actor, body: h.details.message, internal: false, kind: "réponse" })),
  ].sort((a, b) => a.at.localeCompare(b.at));

  const quote = ticket.quote as QuoteView | null;
  const sla = ticket.sla;
  const canEdit =
    (staff && ticket.status !== "closed") ||
    (caller.role === "client" && ticket.requester === caller.sub && ticket.status === "open");

  return (
    <article className="ticket">
      <h1>
        #{ticket.number} {ticket.title}
      </h1>
      <div aria-live="polite">{notice && <p className="notice">{notice}</p>}</div>
      {canEdit && (
        <p>
          <button
            type="button"
            disabled={busy}
            onClick={() => setEdit({ title: ticket.title, description: ticket.description ?? "", priority: ticket.priority ?? "normal" })}
          >
            Modifier
          </button>
        </p>
      )}
      <dl className="facts">
        <dt>Statut</dt>
        <dd><span className={`badge status-${ticket.status}`}>{ticket.status_label || label(STATUS_LABELS, ticket.status)}</span></dd>
        <dt>Type</dt>
        <dd>{label(TYPE_LABELS, ticket.type)}</dd>
        <dt>Priorité</dt>
        <dd>{label(PRIORITY_LABELS, ticket.priority)}</dd>
        <dt>Niveau</dt>
        <dd>{ticket.support_level}</dd>
        <dt>Assigné à</dt>
        <dd>{ticket.assignee ?? "personne"}</dd>
        <dt>Organisation</dt>
        <dd>{ticket.org_id}</dd>
        <dt>Demandeur</dt>
        <dd>{ticket.requester}</dd>
        <dt>Créé le</dt>
        <dd>{formatDateTime(ticket.created_at)}</dd>
        {ticket.auto_close_at && (
          <>
            <dt>Fermeture automatique</dt>
            <dd>{formatDateTime(ticket.auto_close_at)}</dd>
          </>
        )}
        {ticket.closure_reason && (
          <>
            <dt>Fermeture</dt>
            <dd>{label(CLOSURE_LABELS, ticket.closure_reason)}</dd>
          </>
        )}
        {staff && (
          <>
            <dt>Temps passé</dt>
            <dd>{ticket.time_spent_minutes} min</dd>
          </>
        )}
      </dl>
      <section aria-labelledby="h-desc">
        <h2 id="h-desc">Description</h2>
        <p className="pre">{ticket.description || "—"}</p>
      </section>

      <section aria-labelledby="h-actions">
        <h2 id="h-actions">Actions</h2>
        {ticket.allowed_actions.length === 0 ? (
          <p>Aucune action possible pour vous maintenant.</p>
        ) : (
          <div className="buttons">
            {ticket.allowed_actions.map((action) => (
              <button key={action} type="button" className="primary" disabled={busy} onClick={() => onAction(action)}>
                {ACTION_LABELS[action] ?? action}
              </button>
            ))}
          </div>
        )}
      </section>

      {sla && (
        <section aria-labelledby="h-sla">
          <h2 id="h-sla">Niveaux de service</h2>
          <ul>
            <Clock name="Prise en charge" clock={sla.take} />
            <Clock name="Résolution" clock={sla.answer} />
          </ul>
        </section>
      )}

      {quote && (
        <section aria-labelledby="h-quote">
          <h2 id="h-quote">Chiffrage</h2>
          <dl className="facts">
            <dt>Montant</dt>
            <dd>{formatMoney(quote.amount)}</dd>
            {quote.days && (
              <>
                <dt>Jours</dt>
                <dd>{quote.days.replace(".", ",")}</dd>
              </>
            )}
            <dt>État</dt>
            <dd>{label(OUTCOME_LABELS, quote.outcome)}</dd>
            <dt>Valable jusqu'au</dt>
            <dd>{formatDate(validUntil(quote))}</dd>
            {quote.description && (
              <>
                <dt>Description</dt>
                <dd className="pre">{quote.description}</dd>
              </>
            )}
            {quote.reason && (
              <>
                <dt>Motif</dt>
                <dd>{quote.reason}</dd>
              </>
            )}
          </dl>
          {extras.quotes.length > 1 && (
            <details>
              <summary>Versions précédentes</summary>
              <ul>
                {extras.quotes.map((q) => (
                  <li key={q.version}>
                    Version {q.version} : {formatMoney(q.amount)}, {label(OUTCOME_LABELS, q.outcome)}
                    {q.reason ? ` (motif : ${q.reason})` : ""}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </section>
      )}

      <section aria-labelledby="h-conv">
        <h2 id="h-conv">Conversation</h2>
        {conversation.length === 0 ? (
          <p>Aucun message.</p>
        ) : (
          <ol className="conversation">
            {conversation.map((entry) => (
              <li key={entry.key} className={entry.internal ? "internal" : entry.kind === "réponse" ? "answer" : ""}>
                <p className="meta">
                  {entry.author}, {formatDateTime(entry.at)} ({entry.internal ? "note interne" : entry.kind})
                </p>
                <p className="pre">{entry.body}</p>
              </li>
            ))}
          </ol>
        )}
        {ticket.status !== "closed" && (
          <form onSubmit={sendComment}>
            <Field label="Message">
              {(id) => <textarea id={id} rows={3} required value={message} onChange={(e) => setMessage(e.target.value)} />}
            </Field>
            {staff && (
              <div className="check">
                <input id="internal" type="checkbox" checked={internal} onChange={(e) => setInternal(e.target.checked)} />
                <label htmlFor="internal">Note interne</label>
              </div>
            )}
            <button type="submit" disabled={busy}>
              Envoyer
            </button>
          </form>
        )}
      </section>

      <Attachments number={number} staff={staff} open={ticket.status !== "closed"} />

      {staff && (
        <section aria-labelledby="h-time">
          <h2 id="h-time">Temps</h2>
          <h3>Tâches</h3>
          {extras.tasks.length === 0 ? (
            <p>Aucune tâche.</p>
          ) : (
            <ul>
              {extras.tasks.map((task) => (
                <li key={task.month}>
                  {task.title} : {task.minutes} min ({monthLabel(task.month)})
                </li>
              ))}
            </ul>
          )}
          <h3>Temps saisis</h3>
          {extras.entries.length === 0 ? (
            <p>Aucune saisie.</p>
          ) : (
            <ul>
              {extras.entries.map((entry) => (
                <li key={entry.id}>
                  {formatDate(entry.date)} : {entry.minutes} min, {label(KIND_LABELS, entry.kind)}, {entry.consultant}
                  {entry.comment ? ` – ${entry.comment}` : ""}
                </li>
              ))}
            </ul>
          )}
          <form onSubmit={logTime} className="grid">
            <Field label="Minutes">
              {(id) => <input id={id} type="number" min={1} max={1440} required value={time.minutes} onChange={(e) => setTime({ ...time, minutes: e.target.value })} />}
            </Field>
            <Field label="Date">
              {(id) => <input id={id} type="date" value={time.date} onChange={(e) => setTime({ ...time, date: e.target.value })} />}
            </Field>
            <Field label="Nature">
              {(id) => (
                <select id={id} value={time.kind} onChange={(e) => setTime({ ...time, kind: e.target.value })}>
                  <option value="analysis">Analyse</option>
                  <option value="realisation">Réalisation</option>
                </select>
              )}
            </Field>
            <Field label="Commentaire">
              {(id) => <input id={id} value={time.comment} onChange={(e) => setTime({ ...time, comment: e.target.value })} />}
            </Field>
            <button type="submit" disabled={busy}>
              Enregistrer le temps
            </button>
          </form>
        </section>
      )}

      <section aria-labelledby="h-hist">
        <h2 id="h-hist">Historique</h2>
        <ol className="history">
          {extras.history.map((event) => (
            <li key={event.version}>
              {formatDateTime(event.at)} : {label(HISTORY_LABELS, event.action)} par {event.actor}
              {event.from_status !== event.to_status &&
                ` (${label(STATUS_LABELS, event.from_status)} → ${label(STATUS_LABELS, event.to_status)})`}
              {Object.entries(event.details)
                .filter(([key, value]) => key !== "message" && value !== "")
                .map(([key, value]) => ` · ${formatDetail(key, value)}`)
                .join("")}
            </li>
          ))}
        </ol>
      </section>

      {edit && (
        <Dialog title={`Modifier – #${ticket.number}`} onClose={() => setEdit(null)}>
          <form onSubmit={saveEdit}>
            <Field label="Titre">
              {(id) => <input id={id} required maxLength={1000} value={edit.title} onChange={(e) => setEdit({ ...edit, title: e.target.value })} />}
            </Field>
            <Field label="Description">
              {(id) => <textarea id={id} rows={6} value={edit.description} onChange={(e) => setEdit({ ...edit, description: e.target.value })} />}
            </Field>
            {staff && (
              <Field label="Priorité">
                {(id) => (
                  <select id={id} value={edit.priority} onChange={(e) => setEdit({ ...edit, priority: e.target.value })}>
                    {Object.entries(PRIORITY_LABELS).map(([code, text]) => (
                      <option key={code} value={code}>{text}</option>
                    ))}
                  </select>
                )}
              </Field>
            )}
            <div className="buttons">
              <button type="submit" className="primary" disabled={busy}>
                Enregistrer
              </button>
              <button type="button" onClick={() => setEdit(null)}>
                Retour
              </button>
            </div>
          </form>
        </Dialog>
      )}

      {dialog && (
        <ActionDialog
          action={dialog}
          ticket={ticket}
          caller={caller}
          onSubmit={(body) => perform(dialog, body)}
          onClose={() => setDialog(null)}
        />
      )}
    </article>
  );
}
