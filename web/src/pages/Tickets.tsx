import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { isStaff } from "../auth";
import { api, frenchError, unwrap, type Ticket } from "../api/client";
import { buildTicketQuery, SORT_CHOICES, type TicketFilters } from "../api/ticketQuery";
import { label, PRIORITY_LABELS, STATUS_LABELS, TYPE_LABELS, formatDateTime } from "../i18n";
import { useCaller } from "../session";

const FILTER_KEYS = ["status", "type", "level", "priority", "assignee", "q", "sort"] as const;

function viewFilters(view: string | null, level: number | null): TicketFilters {
  if (view === "mine") return { assignee: "me", status: "active" };
  if (view === "queue") return { assignee: "none", status: "open", ...(level ? { level: String(level) } : {}) };
  return {};
}

export function Tickets() {
  const caller = useCaller();
  const staff = isStaff(caller);
  const [params, setParams] = useSearchParams();
  const view = params.get("view");
  const filters: TicketFilters = { ...viewFilters(view, caller.level) };
  for (const key of FILTER_KEYS) {
    const value = params.get(key);
    if (value) filters[key] = value;
  }
  const [items, setItems] = useState<Ticket[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [search, setSearch] = useState(filters.q ?? "");
  const [assignee, setAssignee] = useState(filters.assignee ?? "");
  const key = params.toString();

  const title = view === "mine" ? "Mes tickets" : view === "queue" ? "File d'attente" : "Tickets";

  useEffect(() => {
    document.title = `${title} – Helpdesk`;
  }, [title]);

  // Each request's number: an answer that arrives after a newer request (the previous view's
  // list, slower than this one's) is dropped, or it would replace the rows of the view shown.
  const latest = useRef(0);

  const load = async (more: string | null) => {
    const request = ++latest.current;
    const built = buildTicketQuery({ ...filters, cursor: more ?? undefined }, caller.sub);
    try {
      const data = unwrap(await api().GET("/tickets", { params: { query: built.query } }));
      if (request !== latest.current) return;
      const page = data.items;
      setItems((previous) => (more && previous ? [...previous, ...page] : page));
      setCursor(data.next_cursor ?? null);
      setError(null);
      if (!more) performance.mark("helpdesk:tickets-rendered");
    } catch (exc) {
      if (request !== latest.current) return;
      setError(frenchError(exc));
      setItems([]);
    }
  };

  useEffect(() => {
    setItems(null);
    setSearch(filters.q ?? "");
    setAssignee(filters.assignee ?? "");
    void load(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next);
  };

  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    const next = new URLSearchParams(params);
    for (const [name, value] of [["q", search.trim()], ["assignee", assignee.trim()]] as const) {
      if (value) next.set(name, value);
      else next.delete(name);
    }
    setParams(next);
  };

  return (
    <>
      <h1>{title}</h1>
      <form className="filters" onSubmit={onSearch} role="search" aria-label="Filtres des tickets">
        <div className="field">
          <label htmlFor="f-q">Rechercher</label>
          <input id="f-q" type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="#12 ou des mots du titre" />
        </div>
        <div className="field">
          <label htmlFor="f-status">Statut</label>
          <select id="f-status" value={filters.status ?? ""} onChange={(e) => setFilter("status", e.target.value)}>
            <option value="">Tous</option>
            <option value="active">Non fermés</option>
            {Object.entries(STATUS_LABELS).map(([code, text]) => (
              <option key={code} value={code}>{text}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-type">Type</label>
          <select id="f-type" value={filters.type ?? ""} onChange={(e) => setFilter("type", e.target.value)}>
            <option value="">Tous</option>
            {Object.entries(TYPE_LABELS).map(([code, text]) => (
              <option key={code} value={code}>{text}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-level">Niveau</label>
          <select id="f-level" value={filters.level ?? ""} onChange={(e) => setFilter("level", e.target.value)}>
            <option value="">Tous</option>
            <option value="1">1</option>
            <option value="2">2</option>
            <option value="3">3</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-priority">Priorité</label>
          <select id="f-priority" value={filters.priority ?? ""} onChange={(e) => setFilter("priority", e.target.value)}>
            <option value="">Toutes</option>
            {Object.entries(PRIORITY_LABELS).map(([code, text]) => (
              <option key={code} value={code}>{text}</option>
            ))}
          </select>
        </div>
        {staff && (
          <div className="field">
            <label htmlFor="f-assignee">Assigné à</label>
            <input
              id="f-assignee"
              list="assignee-choices"
              value={assignee}
              onChange={(e) => setAssignee(e.target.value)}
              placeholder="identifiant, me ou none"
            />
            <datalist id="assignee-choices">
              <option value="me">moi</option>
              <option value="none">personne (file d'attente)</option>
            </datalist>
          </div>
        )}
        <div className="field">
          <label htmlFor="f-sort">Tri</label>
          <select id="f-sort" value={filters.sort ?? "-updated"} onChange={(e) => setFilter("sort", e.target.value === "-updated" ? "" : e.target.value)}>
            {SORT_CHOICES.map(([code, text]) => (
              <option key={code} value={code}>{text}</option>
            ))}
          </select>
        </div>
        <button type="submit">Filtrer</button>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
      {items === null ? (
        <p role="status">Chargement…</p>
      ) : items.length === 0 ? (
        <p>Aucun ticket.</p>
      ) : (
        <ul className="tickets" aria-label="Liste des tickets">
          {items.map((ticket) => (
            <li key={ticket.number} className="ticket-row">
              <Link to={`/tickets/${ticket.number}`}>
                #{ticket.number} {ticket.title}
              </Link>
              <span className={`badge status-${ticket.status}`}>{ticket.status_label}</span>
              <span>{label(TYPE_LABELS, ticket.type)}</span>
              <span>priorité {label(PRIORITY_LABELS, ticket.priority)}</span>
              <span>niveau {ticket.support_level}</span>
              {staff && <span>{ticket.assignee ? `assigné à ${ticket.assignee}` : "non assigné"}</span>}
              {staff && <span>{ticket.org_id}</span>}
              <span className="muted">mis à jour {formatDateTime(ticket.updated_at)}</span>
            </li>
          ))}
        </ul>
      )}
      {cursor && (
        <button type="button" onClick={() => void load(cursor)}>
          Afficher plus
        </button>
      )}
    </>
  );
}
