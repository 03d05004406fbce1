import { useEffect, useState } from "react";
import { api, ApiError, frenchError, rawApi, unwrap, type Org } from "../api/client";
import { monthLabel, parisToday } from "../i18n";
import { useCaller } from "../session";

interface Consumption {
  month: string;
  included_minutes: number | null;
  consumed_minutes: number;
  remaining_minutes: number | null;
  overage_minutes: number;
}

/** Turn on once docs/openapi.json documents GET /orgs/{org_id}/consumption. */
const CONSUMPTION_IN_CONTRACT = false;
const NOT_YET = "Le suivi du forfait d'heures et des niveaux de service n'est pas encore disponible.";

function hours(minutes: number | null): string {
  if (minutes === null) return "—";
  return `${(minutes / 60).toFixed(2).replace(".", ",")} h`;
}

export default function Contract() {
  const caller = useCaller();
  const orgId = caller.orgId;
  const month = parisToday().slice(0, 7);
  const [org, setOrg] = useState<Org | null>(null);
  const [consumption, setConsumption] = useState<Consumption | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    document.title = "Contrat – Helpdesk";
    if (!orgId) return;
    api()
      .GET("/orgs/{org_id}", { params: { path: { org_id: orgId } } })
      .then((result) => setOrg(unwrap(result)))
      .catch(() => setOrg(null));
    // GET /orgs/{org_id}/consumption (§10) is not in docs/openapi.json yet, and the API answers
    // an undeclared query parameter with 422: the app asks only once the contract has it.
    if (!CONSUMPTION_IN_CONTRACT) {
      setMessage(NOT_YET);
      return;
    }
    rawApi<Consumption>(`/orgs/${encodeURIComponent(orgId)}/consumption?month=${month}`)
      .then(setConsumption)
      .catch((exc: unknown) =>
        setMessage(
          exc instanceof ApiError && (exc.status === 404 || exc.status === 403)
            ? NOT_YET
            : frenchError(exc),
        ),
      );
  }, [orgId, month]);

  return (
    <>
      <h1>Contrat</h1>
      {!orgId ? (
        <p role="alert">Cette page montre le contrat de votre organisation : elle est réservée aux clients.</p>
      ) : (
        <>
          <p>
            Organisation : {org?.name ?? orgId}
            {org ? ` · fermeture automatique après ${org.auto_close_days} jours sans réponse` : ""}
          </p>
          <h2>Forfait de {monthLabel(month)}</h2>
          {message && <p role="status" className="notice">{message}</p>}
          {consumption && (
            <dl className="facts">
              <dt>Heures incluses</dt>
              <dd>{hours(consumption.included_minutes)}</dd>
              <dt>Heures consommées</dt>
              <dd>{hours(consumption.consumed_minutes)}</dd>
              <dt>Heures restantes</dt>
              <dd>{hours(consumption.remaining_minutes)}</dd>
              <dt>Dépassement</dt>
              <dd>{hours(consumption.overage_minutes)}</dd>
            </dl>
          )}
        </>
      )}
    </>
  );
}
