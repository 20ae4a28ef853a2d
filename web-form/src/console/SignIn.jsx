import { useState } from 'react';
import { Field } from '../shared/Field.jsx';
import { useAction } from '../shared/useAction.js';

/** Sign in with an operator key: it is checked against the API before it is kept. */
export function SignIn({ connect, onSignedIn, notice }) {
  const [key, setKey] = useState('');
  const [missing, setMissing] = useState(null);
  const signIn = useAction(async (presented) => {
    const who = await connect(presented).whoami();
    onSignedIn({ key: presented, ...who });
  });

  function submit(event) {
    event.preventDefault();
    const presented = key.trim();
    setMissing(presented ? null : 'Enter your operator key.');
    if (presented) signIn.perform(presented);
  }

  const refused = signIn.error?.status === 401 || signIn.error?.status === 403;
  const error =
    missing ?? (refused ? 'That key was not accepted. Check it and try again.' : signIn.error?.message);
  return (
    <main className="sign-in">
      <form className="sign-in__card" onSubmit={submit} noValidate aria-busy={signIn.busy}>
        <h1>Operator console</h1>
        <p>
          Sign in with the operator key your admin gave you. On the machine that runs <code>fte up</code>,
          open the console link it printed instead: it signs you in with one click.
        </p>
        <p className="notice" role="status">
          {notice}
        </p>
        <fieldset disabled={signIn.busy}>
          <legend className="visually-hidden">Sign in</legend>
          <Field
            id="operator-key"
            label="Operator key"
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={key}
            onChange={(event) => setKey(event.target.value)}
            error={error}
            hint="Kept in this tab only, until you sign out or close it."
          />
          <button type="submit" className="button button--primary">
            {signIn.busy ? 'Signing in…' : 'Sign in'}
          </button>
        </fieldset>
      </form>
    </main>
  );
}
