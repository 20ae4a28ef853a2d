// The /console page.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../styles/base.css';
import '../styles/console.css';
import { ConsoleApp } from './ConsoleApp.jsx';

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <ConsoleApp />
  </StrictMode>,
);
