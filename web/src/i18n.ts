// French labels and formats (DESIGN §2, §8).
export const STATUS_LABELS: Record<string, string> = {
  open: "Ouvert",
  taken: "Pris en charge",
  in_progress: "En Cours",
  on_hold: "Un instant",
  awaiting_quote_approval: "En Attente Validation Chiffrage",
  in_realisation: "En Cours de Réalisation",
  answer_sent: "Réponse Envoyée",
  closed: "Fermé",
};

export const TYPE_LABELS: Record<string, string> = {
  assistance: "Support - Assistance Utilisateur",
  incident: "Support - Incident Applicatif",
  evolution: "Support - Evolution Applicatif",
};

export const PRIORITY_LABELS: Record<string, string> = {
  low: "basse",
  normal: "normale",
  high: "haute",
  critical: "critique",
};

export const ACTION_LABELS: Record<string, string> = {
  take: "Prendre en charge",
  start: "Démarrer",
  escalate: "Escalader",
  hold: "Mettre en attente",
  resume: "Reprendre",
  "submit-quote": "Envoyer le chiffrage",
  assign: "Assigner",
  cancel: "Annuler la demande",
  "approve-quote": "Valider le chiffrage",
  "refuse-quote": "Refuser le chiffrage",
  "withdraw-quote": "Retirer le chiffrage",
  "send-answer": "Envoyer la réponse",
  confirm: "Confirmer la résolution",
  reopen: "Rouvrir",
  close: "Fermer le ticket",
};

export const HISTORY_LABELS: Record<string, string> = {
  ...ACTION_LABELS,
  create: "Création",
  "auto-close": "Fermeture automatique",
  "expire-quote": "Chiffrage expiré",
  edit: "Modification",
  "mail-bounced": "Message non distribué",
};

export const OUTCOME_LABELS: Record<string, string> = {
  pending: "en attente de validation",
  approved: "validé",
  refused: "refusé",
  expired: "expiré",
  withdrawn: "retiré",
};

export const CLOSURE_LABELS: Record<string, string> = {
  confirmed: "résolution confirmée par le client",
  closed_by_consultant: "fermé par le consultant",
  auto_closed: "fermé automatiquement",
  cancelled: "demande annulée",
  abandoned: "évolution abandonnée",
};

export const KIND_LABELS: Record<string, string> = { analysis: "Analyse", realisation: "Réalisation" };

export const SLA_STATE_LABELS: Record<string, string> = {
  running: "en cours",
  paused: "en pause",
  met: "tenu",
  missed: "manqué",
};

export const ROLE_LABELS: Record<string, string> = {
  client: "client",
  consultant: "consultant",
  manager: "manager",
  finance: "finance",
  unknown: "rôle inconnu",
};

const money = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR" });
const dateTime = new Intl.DateTimeFormat("fr-FR", {
  timeZone: "Europe/Paris",
  dateStyle: "full",
  timeStyle: "short",
});
const dateOnly = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", dateStyle: "long" });

/** "1200.00" -> "1 200,00 €" (fr-FR, EUR; the narrow no-break spaces made plain spaces). */
export function formatMoney(amount: string | number | null | undefined, currency = "EUR"): string {
  if (amount === null || amount === undefined || amount === "") return "—";
  const value = typeof amount === "number" ? amount : Number(amount);
  if (Number.isNaN(value)) return String(amount);
  const formatter =
    currency === "EUR" ? money : new Intl.NumberFormat("fr-FR", { style: "currency", currency });
  return formatter.format(value).replace(/[\u202f\u00a0]/g, " ");
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso.length === 10 ? `${iso}T12:00:00Z` : iso);
  return Number.isNaN(date.getTime()) ? iso : dateOnly.format(date);
}

/** Today in Europe/Paris as yyyy-mm-dd. */
export function parisToday(): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Paris" }).format(new Date());
}

const MONTHS = [
  "Janvier", "Février", "Mars", "Avril", "Mai", "Juin",
  "Juillet", "Août", "Septembre", "Octobre", "Novembre", "Décembre",
];

export function monthLabel(month: string): string {
  const [year, mm] = month.split("-");
  return `${MONTHS[Number(mm) - 1] ?? mm} ${year}`;
}

export function label(table: Record<string, string>, code: string | null | undefined): string {
  if (!code) return "—";
  return table[code] ?? code;
}

const DETAIL_LABELS: Record<string, string> = {
  assignee: "assigné à",
  priority: "priorité",
  type: "type",
  reason: "motif",
  note: "note",
  amount: "montant",
  days: "jours",
  description: "description",
  quote_version: "version du chiffrage",
  task_month: "tâche du mois",
  source: "source",
  auto_close_at: "fermeture automatique",
  from_level: "depuis le niveau",
  to_level: "vers le niveau",
  level: "niveau",
  via: "via",
};

/** One history detail in French: "priorité : haute", "montant : 1 200,00 €". */
export function formatDetail(key: string, value: string): string {
  // An edit's details: `title.old`, `title.new`, ...
  const dotted = /^(title|description|priority)\.(old|new)$/.exec(key);
  if (dotted) {
    const field = { title: "titre", description: "description", priority: "priorité" }[dotted[1]] ?? dotted[1];
    const shown = dotted[1] === "priority" ? label(PRIORITY_LABELS, value) : value;
    return `${field} (${dotted[2] === "old" ? "avant" : "après"}) : ${shown}`;
  }
  let shown = value;
  if (key === "priority") shown = label(PRIORITY_LABELS, value);
  else if (key === "type") shown = label(TYPE_LABELS, value);
  else if (key === "amount") shown = formatMoney(value);
  else if (key === "task_month") shown = monthLabel(value);
  else if (key.endsWith("_at")) shown = formatDateTime(value);
  else if (key === "source") shown = value === "email" ? "courriel" : value === "api" ? "application" : value;
  return `${DETAIL_LABELS[key] ?? key.replace(/_/g, " ")} : ${shown}`;
}
