// One place builds GET /tickets's query from the list's controls (DESIGN §7).
// Today's contract (docs/openapi.json) accepts status (one code), type, level, assignee (an
// id), org_id, cursor, limit. The rest of §7 (`q`, `priority`, several statuses, `active`,
// `assignee=me|none`) is not in it yet: an unknown parameter would be a 422, so these are
// applied to the page of results in the browser until API_SUPPORTS turns them on.
import type { operations } from "./schema";
import type { Ticket } from "./client";

export type ListQuery = NonNullable<operations["list_tickets_tickets_get"]["parameters"]["query"]>;

/** Switch a filter on here once docs/openapi.json documents it. */
export const API_SUPPORTS = {
  q: false,
  priority: false,
  assigneeMeNone: false,
  statusList: false,
};

export interface TicketFilters {
  status?: string; // a code, or "active"
  type?: string;
  level?: string;
  priority?: string;
  assignee?: string; // an id, "me" or "none"
  q?: string;
  cursor?: string;
}

export interface BuiltQuery {
  query: Record<string, string | number>;
  /** What the API cannot filter yet, checked on each returned ticket. */
  matches: (ticket: Ticket) => boolean;
  /** Names of the filters applied in the browser (shown to the user). */
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

export function buildTicketQuery(filters: TicketFilters, me: string, limit = 50): BuiltQuery {
  const query: Record<string, string | number> = { limit };
  const checks: Array<(t: Ticket) => boolean> = [];
  const local: string[] = [];

  if (filters.status) {
    const several = filters.status === "active" || filters.status.includes(",");
    if (!several || API_SUPPORTS.statusList) query.status = filters.status;
    else {
      const codes = filters.status.split(",");
      checks.push((t) => (filters.status === "active" ? t.status !== "closed" : codes.includes(t.status)));
      local.push("status");
    }
  }
  if (filters.type) query.type = filters.type;
  if (filters.level) query.level = Number(filters.level);
  if (filters.priority) {
    if (API_SUPPORTS.priority) query.priority = filters.priority;
    else {
      checks.push((t) => t.priority === filters.priority);
      local.push("priority");
    }
  }
  if (filters.assignee) {
    if (filters.assignee === "me" || filters.assignee === "none") {
      if (API_SUPPORTS.assigneeMeNone) query.assignee = filters.assignee;
      else if (filters.assignee === "me") query.assignee = me; // an id: documented today
      else {
        checks.push((t) => !t.assignee);
        local.push("assignee");
      }
    } else query.assignee = filters.assignee;
  }
  if (filters.q && filters.q.trim()) {
    if (API_SUPPORTS.q) query.q = filters.q.trim();
    else {
      const q = filters.q;
      checks.push((t) => searchMatches(q, t));
      local.push("q");
    }
  }
  if (filters.cursor) query.cursor = filters.cursor;
  return { query, matches: (t) => checks.every((check) => check(t)), local };
}
