import { useEffect, useId, useRef, useState } from 'react';
import { Field } from '../shared/Field.jsx';
import { newIdempotencyKey } from './idempotency.js';
import { CATEGORIES, LIMITS, PRIORITIES, toSubmission, validate } from './validation.js';

const EMPTY = {
  name: '',
  email: '',
  phone: '',
  subject: '',
  category: 'general',
  priority: 'medium',
  message: '',
};

const options = (pairs) =>
  pairs.map(([value, label]) => (
    <option key={value} value={value}>
      {label}
    </option>
  ));

/**
 * The support request form. Checks the fields as the server does, sends one Idempotency-Key
 * per submission (a retry of the same request reuses it, so it stays one ticket) and shows the
 * server's field errors on their fields.
 */
export function SupportForm({ api, onSubmitted }) {
  const uid = useId();
  const [values, setValues] = useState(EMPTY);
  const [errors, setErrors] = useState({});
  const [problem, setProblem] = useState(null);
  const [submitting, setSubmitting] = useState(false);
  const inFlight = useRef(false); // state updates land after the next render; a ref stops a double click now
  const attempt = useRef(null); // { json, key } of the last request that did not succeed
  const form = useRef(null);
  const focusNext = useRef(null); // the field to focus once the fieldset is enabled again

  useEffect(() => {
    if (!submitting && focusNext.current) {
      form.current.elements[focusNext.current].focus();
      focusNext.current = null;
    }
  });

  function showErrors(found) {
    setErrors(found);
    focusNext.current = Object.keys(EMPTY).find((name) => found[name]) ?? null;
  }

  function change(event) {
    const { name, value } = event.target;
    setValues((current) => ({ ...current, [name]: value }));
    setErrors(({ [name]: _fixed, ...rest }) => rest);
  }

  function keyFor(body) {
    const json = JSON.stringify(body);
    if (attempt.current?.json !== json) attempt.current = { json, key: newIdempotencyKey() };
    return attempt.current.key;
  }

  async function submit(event) {
    event.preventDefault();
    if (inFlight.current) return;
    setProblem(null);
    const found = validate(values);
    if (Object.keys(found).length > 0) {
      showErrors(found);
      return;
    }
    const body = toSubmission(values);
    inFlight.current = true;
    setSubmitting(true);
    try {
      const receipt = await api.submit(body, keyFor(body));
      attempt.current = null;
      onSubmitted(receipt);
    } catch (error) {
      const onFields = Object.fromEntries(
        Object.entries(error.fieldErrors?.() ?? {}).filter(([name]) => name in EMPTY),
      );
      if (Object.keys(onFields).length > 0) {
        showErrors(onFields);
        setProblem('Please correct the highlighted fields.');
      } else {
        setProblem(error.message);
      }
    } finally {
      inFlight.current = false;
      setSubmitting(false);
    }
  }

  const field = (name) => ({
    id: `${uid}${name}`,
    name,
    value: values[name],
    onChange: change,
    error: errors[name],
  });

  return (
    <form
      ref={form}
      className="support-form"
      onSubmit={submit}
      noValidate
      aria-busy={submitting}
      aria-labelledby={`${uid}title`}
    >
      <h2 id={`${uid}title`}>Contact support</h2>
      <p className="support-form__intro">
        Tell us what is going on. Fields are required unless marked optional.
      </p>
      <fieldset disabled={submitting}>
        <legend className="visually-hidden">Your request</legend>
        <div className="support-form__row">
          <Field label="Name" autoComplete="name" required {...field('name')} />
          <Field label="Email" type="email" autoComplete="email" required {...field('email')} />
        </div>
        <Field
          label="Phone"
          type="tel"
          autoComplete="tel"
          optional
          hint="International format, e.g. +14155550100."
          {...field('phone')}
        />
        <Field label="Subject" required {...field('subject')} />
        <div className="support-form__row">
          <Field label="Category" as="select" {...field('category')}>
            {options(CATEGORIES)}
          </Field>
          <Field label="Priority" as="select" {...field('priority')}>
            {options(PRIORITIES)}
          </Field>
        </div>
        <Field
          label="Message"
          as="textarea"
          rows={6}
          required
          hint={`${LIMITS.message[0]} to ${LIMITS.message[1]} characters (${values.message.trim().length} so far).`}
          {...field('message')}
        />
        <p className="form-problem" role="alert">
          {problem}
        </p>
        <button type="submit" className="button button--primary">
          {submitting ? 'Sending…' : 'Send request'}
        </button>
      </fieldset>
    </form>
  );
}
