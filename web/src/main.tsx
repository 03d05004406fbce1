import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { loadConfig } from "./config";
import { App } from "./App";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);

loadConfig()
  .then(() => {
    root.render(
      <StrictMode>
        <BrowserRouter basename="/app">
          <App />
        </BrowserRouter>
      </StrictMode>,
    );
  })
  .catch((error: unknown) => {
    root.render(
      <main className="page">
        <h1>Helpdesk</h1>
        <p role="alert">
          La configuration de l'application (config.json) est introuvable : {String(error)}
        </p>
      </main>,
    );
  });
