// widget.js: `<script src="https://support.example.com/widget.js"></script>` mounts the support
// form into <div id="fte-support"> (or right after the script tag when there is none). It talks
// to the API it was loaded from (or to `data-api`), and renders in a shadow root so the host
// page's styles and ours leave each other alone.
import { createRoot } from 'react-dom/client';
import base from '../styles/base.css?inline';
import support from '../styles/support.css?inline';
import { SupportApp } from './SupportApp.jsx';
import { statusHref, supportApi } from './supportApi.js';

const script = document.currentScript; // only set while this classic script first runs

function apiOrigin() {
  const configured = script?.dataset.api;
  return new URL(configured || script?.src || window.location.href, window.location.href).origin;
}

function host() {
  const existing = document.getElementById('fte-support');
  if (existing) return existing;
  const created = document.createElement('div');
  created.id = 'fte-support';
  if (script?.isConnected) script.after(created);
  else document.body.append(created);
  return created;
}

function mount() {
  const origin = apiOrigin();
  const shadow = host().attachShadow({ mode: 'open' });
  const style = document.createElement('style');
  style.textContent = `${base}\n${support}`;
  const container = document.createElement('div');
  container.className = 'fte-widget';
  shadow.append(style, container);
  createRoot(container).render(
    <SupportApp
      api={supportApi(origin)}
      statusHref={(ticketId, token) => statusHref(origin, ticketId, token)}
    />,
  );
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mount);
else mount();
