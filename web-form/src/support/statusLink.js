// Where a status page finds its ticket's access token: the link's fragment (#token=...), which
// never reaches a server, or a `?token=` query (hand-made links), moved into the fragment at
// once so that a reload, a bookmark or a shared address does not send it to the server again.

/** Return the token the page was opened with (null when there is none). */
export function tokenFromLocation(location, history) {
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromFragment) return fromFragment;
  const query = new URLSearchParams(location.search);
  const fromQuery = query.get('token');
  if (!fromQuery) return null;
  query.delete('token');
  const rest = query.toString();
  history.replaceState(
    history.state,
    '',
    `${location.pathname}${rest ? `?${rest}` : ''}#token=${encodeURIComponent(fromQuery)}`,
  );
  return fromQuery;
}
