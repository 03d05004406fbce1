// Attachments of a ticket (DESIGN §11): the list (a 5-minute download link once checked) and a
// file field `Pièce jointe` (or drag and drop) that announces the file, then POSTs it to the
// presigned form the API answered (S3 in AWS, the local stack's /_local/s3 with `make run`).
import { useCallback, useEffect, useState, type DragEvent, type FormEvent } from "react";
import { api, frenchError, unwrap, type Schemas } from "../api/client";
import { formatDateTime } from "../i18n";
import { Field } from "./Field";

type Attachment = Schemas["AttachmentOut"];

const MAX_BYTES = 10 * 1024 * 1024;
const STATUS: Record<string, string> = {
  pending: "en cours de vérification",
  available: "disponible",
  rejected: "refusée",
};
const REASONS: Record<string, string> = {
  empty: "fichier vide",
  size_mismatch: "taille différente de celle annoncée",
  too_large: "plus de 10 Mo",
  type_not_allowed: "type de fichier non accepté",
  type_mismatch: "le contenu ne correspond pas au type du fichier",
  malware: "l'analyse antivirus l'a refusé",
};
// By extension, when the browser gives no type (the API checks it against the content anyway).
const TYPES: Record<string, string> = {
  png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp",
  tif: "image/tiff", tiff: "image/tiff", pdf: "application/pdf", txt: "text/plain", log: "text/plain",
  csv: "text/csv", eml: "message/rfc822", rtf: "application/rtf", zip: "application/zip",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  odt: "application/vnd.oasis.opendocument.text", ods: "application/vnd.oasis.opendocument.spreadsheet",
  odp: "application/vnd.oasis.opendocument.presentation", doc: "application/msword",
  xls: "application/vnd.ms-excel", ppt: "application/vnd.ms-powerpoint",
};

function typeOf(file: File): string {
  const extension = file.name.includes(".") ? file.name.split(".").pop()!.toLowerCase() : "";
  return TYPES[extension] ?? (file.type || "application/octet-stream");
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} octets`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1).replace(".", ",")} Ko`;
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(".", ",")} Mo`;
}

export function Attachments({ number, staff, open }: { number: number; staff: boolean; open: boolean }) {
  const [items, setItems] = useState<Attachment[]>([]);
  const [file, setFile] = useState<File | null>(null);
  const [internal, setInternal] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);

  const load = useCallback(async () => {
    try {
      const page = unwrap(await api().GET("/tickets/{number}/attachments", { params: { path: { number } } }));
      setItems(page.items);
    } catch (exc) {
      setError(frenchError(exc));
    }
  }, [number]);

  useEffect(() => {
    void load();
  }, [load]);

  const send = async (chosen: File) => {
    setError(null);
    setNotice(null);
    if (chosen.size === 0 || chosen.size > MAX_BYTES) {
      setError("Le fichier doit faire entre 1 octet et 10 Mo.");
      return;
    }
    setBusy(true);
    try {
      const created = unwrap(
        await api().POST("/tickets/{number}/attachments", {
          params: { path: { number } },
          body: { filename: chosen.name, content_type: typeOf(chosen), size: chosen.size, internal: staff && internal },
        }),
      );
      const form = new FormData();
      for (const [name, value] of Object.entries(created.upload.fields)) form.append(name, value);
      form.append("file", chosen);
      const uploaded = await fetch(created.upload.url, { method: "POST", body: form });
      if (!uploaded.ok) throw new Error(`L'envoi du fichier a échoué (${uploaded.status}).`);
      setNotice(`« ${chosen.name} » envoyé.`);
      setFile(null);
      await load();
    } catch (exc) {
      setError(frenchError(exc));
    } finally {
      setBusy(false);
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (file) void send(file);
  };

  const drop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const dropped = event.dataTransfer.files[0];
    if (dropped) void send(dropped);
  };

  return (
    <section aria-labelledby="h-files">
      <h2 id="h-files">Pièces jointes</h2>
      {items.length === 0 ? (
        <p>Aucune pièce jointe.</p>
      ) : (
        <ul className="attachments">
          {items.map((item) => (
            <li key={item.id} className={item.internal ? "internal" : ""}>
              {item.url ? <a href={item.url}>{item.filename}</a> : <span>{item.filename}</span>} ({size(item.size)},{" "}
              {STATUS[item.status] ?? item.status}
              {item.reason ? ` : ${REASONS[item.reason] ?? item.reason}` : ""}
              {item.internal ? ", interne" : ""}) — {formatDateTime(item.at)}
            </li>
          ))}
        </ul>
      )}
      {open && (
        <form
          onSubmit={submit}
          onDragOver={(event) => {
            event.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={drop}
          className={dragging ? "dropzone dragging" : "dropzone"}
        >
          <Field label="Pièce jointe" hint="10 Mo au plus : images, PDF, texte, CSV, documents bureautiques, zip, eml. Vous pouvez aussi déposer un fichier ici.">
            {(id) => <input id={id} type="file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />}
          </Field>
          {staff && (
            <div className="check">
              <input id="internal-file" type="checkbox" checked={internal} onChange={(e) => setInternal(e.target.checked)} />
              <label htmlFor="internal-file">Pièce jointe interne</label>
            </div>
          )}
          <button type="submit" disabled={busy || !file}>
            Joindre le fichier
          </button>
        </form>
      )}
      {notice && <p role="status">{notice}</p>}
      {error && <p role="alert">{error}</p>}
    </section>
  );
}
