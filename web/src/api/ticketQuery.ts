// One place builds GET /tickets's query from the list's controls (DESIGN §7).
// The contract (docs/openapi.json) filters everything §7 asks for: status (a code, a comma
// list or `active`), type, level, priority, requester, org_id, assignee (an id, `me`, `none`),
// q, created_from/created_to, sort, cursor, limit. Unknown parameters are a 422, so only
// the names of LIST_PARAMS are ever sent.
import type { operations } from "./schema";
import type { Ticket } from "./client";

export type ListQuery = NonNullable<operations["listTickets"]["parameters"]["query"]>;

/** Every filter is done by the API now (kept for callers that test a flag). */
export const API_SUPPORTS = {
  q: true,
  priority: true,
  assigneeMeNone: true,
  statusList: true,
};

/** The query names GET /tickets declares (anything else is a 422). */
export const LIST_PARAMS = [
  "status", "type", "level", "priority", "requester", "org_id", "assignee", "q",
  "created_from", "created_to", "sort", "cursor", "limit",
] as const satisfies ReadonlyArray<keyof ListQuery>;

export const SORT_CHOICES: Array<[string, string]> = [
  ["-updated", "mise à jour"],
  ["-created", "création"],
  ["number", "numéro"],
  ["-priority", "priorité"],
];

export interface TicketFilters {
  status?: string; // a code, a comma list, or "active"
  type?: string;
  level?: string;
  priority?: string;
  requester?: string;
  org_id?: string;
  assignee?: string; // an id, "me" or "none"
  q?: string;
  created_from?: string;
  created_to?: string;
  sort?: string;
  cursor?: string;
}

export interface BuiltQuery {
  query: ListQuery;
  /** Kept for compatibility: the API filters everything, so every ticket matches. */
  matches: (ticket: Ticket) => boolean;
  /** Names of the filters applied in the browser: none any more. */
  local: string[];
}

function fold(text: string): string {
  return text
    .normalize("NFD")
    .replace(/\p{Diacritic}/gu, "")
    .toLowerCase();
}

/** §7's search: `#88` or `88` finds that ticket; else every word starts a word of the title. */
export function searchMatches(q: string, ticket: Ticket): boolean {
  const wanted = q.trim();
  if (!wanted) return true;
  const number = /^#?(\d+)$/.exec(wanted);
  if (number) return ticket.number === Number(number[1]);
  const words = fold(ticket.title).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  return fold(wanted)
    .split(/\s+/)
    .filter(Boolean)
    .every((part) => words.some((word) => word.startsWith(part)));
}

export function buildTicketQuery(filters: TicketFilters, _me: string, limit = 50): BuiltQuery {
  const query: ListQuery = { limit };
  const text = (value: string | undefined) => (value && value.trim() ? value.trim() : undefined);
  const status = text(filters.status);
  if (status) query.status = status;
  if (filters.type) query.type = filters.type as ListQuery["type"];
  if (filters.level && /^\d+$/.test(filters.level)) query.level = Number(filters.level);
  if (filters.priority) query.priority = filters.priority as ListQuery["priority"];
  const requester = text(filters.requester);
  if (requester) query.requester = requester;
  const org = text(filters.org_id);
  if (org) query.org_id = org;
  const assignee = text(filters.assignee);
  if (assignee) query.assignee = assignee;
  const q = text(filters.q);
  if (q) query.q = q;
  const from = text(filters.created_from);
  if (from) query.created_from = from;
  const to = text(filters.created_to);
  if (to) query.created_to = to;
  const sort = text(filters.sort);
  if (sort && /^-?(updated|created|number|priority)$/.test(sort)) query.sort = sort;
  if (filters.cursor) query.cursor = filters.cursor;
  // Never more than the declared names (a stray key would be a 422).
  for (const name of Object.keys(query)) {
    if (!(LIST_PARAMS as readonly string[]).includes(name)) delete (query as Record<string, unknown>)[name];
  }
  return { query, matches: () => true, local: [] };
}
