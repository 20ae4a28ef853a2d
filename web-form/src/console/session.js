// The signed-in operator for this browser tab only: sessionStorage, never localStorage or the URL.
const SESSION = 'fte-console-session';

export function loadSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION));
  } catch {
    return null;
  }
}

export const saveSession = (session) => sessionStorage.setItem(SESSION, JSON.stringify(session));

export const clearSession = () => sessionStorage.removeItem(SESSION);
