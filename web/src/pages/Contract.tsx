import { useEffect, useState } from "react";
import { api, frenchError, unwrap, type Schemas } from "../api/client";
import { formatMoney, monthLabel, PRIORITY_LABELS, parisToday } from "../i18n";
import { useCaller } from "../session";

type Consumption = Schemas["ConsumptionOut"];

const WEEKDAYS = ["", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
const HOLIDAYS: Record<string, string> = {
  FR: "jours fériés de France métropolitaine",
  "FR-ALSACE-MOSELLE": "jours fériés d'Alsace-Moselle",
};
const PRIORITIES = ["critical", "high", "normal", "low"] as const;

function hours(minutes: number | null | undefined): string {
  if (minutes === null || minutes === undefined) return "—";
  return `${(minutes / 60).toFixed(2).replace(".", ",")} h`;
}

export default function Contract() {
  const caller = useCaller();
  const orgId = caller.orgId;
  const month = parisToday().slice(0, 7);
  const [consumption, setConsumption] = useState<Consumption | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    document.title = "Contrat – Helpdesk";
    if (!orgId) return;
    api()
      .GET("/orgs/{org_id}/consumption", {
        params: { path: { org_id: orgId }, query: { month } },
      })
      .then((result) => setConsumption(unwrap(result)))
      .catch((exc: unknown) => setMessage(frenchError(exc)));
  }, [orgId, month]);

  const contract = consumption?.contract;
  return (
    <>
      <h1>Contrat</h1>
      {!orgId ? (
        <p role="alert">Cette page montre le contrat de votre organisation : elle est réservée aux clients.</p>
      ) : (
        <>
          <p>Organisation : {orgId}</p>
          {message && <p role="status" className="notice">{message}</p>}
          <h2>Forfait de {monthLabel(month)}</h2>
          {consumption &&
            (consumption.included_minutes === null ? (
              <p>
                Votre contrat ne comprend pas de forfait d'heures. Heures consommées ce mois :{" "}
                {hours(consumption.consumed_minutes)}.
              </p>
            ) : (
              <dl className="facts">
                <dt>Heures incluses</dt>
                <dd>{hours(consumption.included_minutes)}</dd>
                <dt>Heures consommées</dt>
                <dd>{hours(consumption.consumed_minutes)}</dd>
                <dt>Heures restantes</dt>
                <dd>{hours(consumption.remaining_minutes)}</dd>
                <dt>Dépassement</dt>
                <dd>{hours(consumption.overage_minutes)}</dd>
                <dt>Redevance mensuelle</dt>
                <dd>{formatMoney(consumption.monthly_fee)}</dd>
              </dl>
            ))}
          {contract && (
            <>
              <h2>Niveaux de service</h2>
              <p>
                Heures ouvrées : {contract.business_hours.days.map((d) => WEEKDAYS[d] ?? d).join(", ")}, de{" "}
                {contract.business_hours.start} à {contract.business_hours.end}, hors{" "}
                {HOLIDAYS[contract.holidays] ?? contract.holidays}.
              </p>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Priorité</th>
                    <th scope="col">Prise en charge</th>
                    <th scope="col">Réponse</th>
                  </tr>
                </thead>
                <tbody>
                  {PRIORITIES.map((p) => (
                    <tr key={p}>
                      <th scope="row">{PRIORITY_LABELS[p] ?? p}</th>
                      <td>{hours(contract.sla[p].take_minutes)} ouvrées</td>
                      <td>{hours(contract.sla[p].answer_minutes)} ouvrées</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </>
      )}
    </>
  );
}
