import { lazy, Suspense, useState } from 'react';
import { Field } from '../shared/Field.jsx';
import { usePolled } from '../shared/usePolled.js';
import { CustomerRow } from './CustomerRow.jsx';
import { Panel } from './Panel.jsx';

// The health chart (and its library) loads only when an operator opens a customer's health.
const CustomerHealth = lazy(() =>
  import('./CustomerHealth.jsx').then((module) => ({ default: module.CustomerHealth })),
);

/** The tenant's customers, most recent contact first, searchable by name, email or phone. */
export function Customers({ api, revision, onChange }) {
  const [typed, setTyped] = useState('');
  const [search, setSearch] = useState('');
  const [selected, setSelected] = useState(null); // { id, name } whose health is shown
  const { data, error } = usePolled(() => api.customers(search), `${revision}:${search}`);
  const customers = data?.customers ?? [];

  return (
    <Panel title="Customers">
      <form
        className="customers__search"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          setSearch(typed.trim());
        }}
      >
        <Field
          id="customer-search"
          label="Find a customer"
          type="search"
          value={typed}
          onChange={(event) => setTyped(event.target.value)}
          placeholder="Name, email or phone"
        />
        <button type="submit" className="button">
          Search
        </button>
      </form>
      <p className="form-problem" role="alert">
        {error?.message}
      </p>
      {data && customers.length === 0 && (
        <p className="empty">No customers {search ? `match “${search}”` : 'yet'}.</p>
      )}
      {customers.length > 0 && (
        <div className="table-scroll">
          <table>
            <caption className="visually-hidden">Customers and their autonomy</caption>
            <thead>
              <tr>
                <th scope="col">Customer</th>
                <th scope="col">Care state</th>
                <th scope="col">Mode</th>
                <th scope="col">Last contact</th>
                <th scope="col">Hands-off</th>
                <th scope="col">Escalation</th>
              </tr>
            </thead>
            <tbody>
              {customers.map((customer) => (
                <CustomerRow
                  key={customer.customer_id}
                  customer={customer}
                  api={api}
                  onChange={onChange}
                  onShowHealth={setSelected}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {selected && (
        <Suspense fallback={<p role="status">Loading the health chart…</p>}>
          <CustomerHealth api={api} customerId={selected.id} name={selected.name} revision={revision} />
        </Suspense>
      )}
    </Panel>
  );
}
