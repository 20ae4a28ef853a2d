import { useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { usePolled } from '../shared/usePolled.js';
import { Panel } from './Panel.jsx';

const CHANNELS = { email: 'Email', whatsapp: 'WhatsApp', web_form: 'Web form' };
const COLORS = { email: '#2563eb', whatsapp: '#16a34a', web_form: '#d97706' };
// What the page can chart: hours back and the step of one point.
export const RANGES = {
  '1h': { hours: 1, stepS: 60, label: 'Last hour (1 min steps)' },
  '6h': { hours: 6, stepS: 300, label: 'Last 6 hours (5 min steps)' },
  '24h': { hours: 24, stepS: 900, label: 'Last 24 hours (15 min steps)' },
};

const clock = (at) => new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
const percent = (rate) => (rate === null || rate === undefined ? '—' : `${Math.round(rate * 100)}%`);
const seconds = (s) => (s === null || s === undefined ? '—' : `${s.toFixed(1)} s`);

/** The series as chart rows: one per step, a column per line. */
export function chartRows(points) {
  return points.map((point) => ({
    at: clock(point.at),
    ...Object.fromEntries(
      Object.keys(CHANNELS).map((channel) => [channel, point.first_response_p95_s[channel] ?? null]),
    ),
    escalation: point.escalation_rate === null ? null : point.escalation_rate * 100,
    automation: point.automation_rate === null ? null : point.automation_rate * 100,
    waiting: point.inbound_waiting,
    dead: point.dead_letters,
    draftAge: point.oldest_draft_age_s === null ? null : point.oldest_draft_age_s / 60,
  }));
}

/** One chart: a titled figure with a line per series. */
function Chart({ title, rows, lines, unit, counts = false }) {
  return (
    <figure className="health__chart" aria-label={title}>
      <figcaption>{title}</figcaption>
      <LineChart width={440} height={200} data={rows} margin={{ top: 8, right: 16, left: 0, bottom: 0 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="at" minTickGap={40} fontSize={11} />
        <YAxis fontSize={11} unit={unit} allowDecimals={!counts} />
        <Tooltip />
        <Legend />
        {lines.map(({ key, name, color }) => (
          <Line
            key={key}
            type="monotone"
            dataKey={key}
            name={name}
            stroke={color}
            dot={{ r: 2 }}
            connectNulls
            isAnimationActive={false}
          />
        ))}
      </LineChart>
    </figure>
  );
}

function Alerts({ alerts }) {
  if (!alerts.length) return <p role="status">No open alerts: every threshold is met.</p>;
  return (
    <ul className="health__alerts">
      {alerts.map((alert) => (
        <li key={alert.id} className={`health__alert health__alert--${alert.severity}`}>
          <strong>{alert.severity}</strong> {alert.summary}{' '}
          <span className="muted">since {clock(alert.opened_at)}</span>
        </li>
      ))}
    </ul>
  );
}

function ChannelTable({ metrics }) {
  const rows = [
    ...Object.keys(CHANNELS).map((channel) => [channel, metrics.channels[channel]]),
    ['total', metrics.totals],
  ];
  return (
    <table className="health__table">
      <caption>Last hour, per channel</caption>
      <thead>
        <tr>
          <th scope="col">Channel</th>
          <th scope="col">Conversations</th>
          <th scope="col">In / out</th>
          <th scope="col">Sentiment</th>
          <th scope="col">Escalated</th>
          <th scope="col">Automated</th>
          <th scope="col">First response p50 / p95</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([channel, m]) => (
          <tr key={channel}>
            <th scope="row">{CHANNELS[channel] ?? 'All channels'}</th>
            <td>{m.conversations}</td>
            <td>
              {m.messages_in} / {m.messages_out}
            </td>
            <td>{m.avg_sentiment === null ? '—' : m.avg_sentiment.toFixed(2)}</td>
            <td>{percent(m.escalation_rate)}</td>
            <td>{percent(m.automation_rate)}</td>
            <td>
              {seconds(m.first_response_p50_s)} / {seconds(m.first_response_p95_s)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The Health page: open alerts, the last hour per channel and the last hours as charts. */
export function Health({ api, revision = 0 }) {
  const [range, setRange] = useState('1h');
  const { hours, stepS, label } = RANGES[range];
  const alerts = usePolled(() => api.alerts(), revision, 10_000);
  const metrics = usePolled(() => api.channelMetrics('1h'), revision, 10_000);
  const series = usePolled(() => api.series(hours, stepS), `${revision}:${range}`, 10_000);
  const rows = series.data ? chartRows(series.data.points) : [];
  const perChannel = Object.entries(CHANNELS).map(([key, name]) => ({ key, name, color: COLORS[key] }));
  return (
    <div className="health">
      <Panel title="Open alerts" loading={!alerts.data} error={alerts.error}>
        {alerts.data && <Alerts alerts={alerts.data.alerts} />}
      </Panel>
      <Panel title="Channels" loading={!metrics.data} error={metrics.error}>
        {metrics.data && <ChannelTable metrics={metrics.data} />}
      </Panel>
      <Panel title="Over time" loading={!series.data} error={series.error}>
        <label className="health__range">
          Range{' '}
          <select value={range} onChange={(event) => setRange(event.target.value)}>
            {Object.entries(RANGES).map(([key, option]) => (
              <option key={key} value={key}>
                {option.label}
              </option>
            ))}
          </select>
        </label>
        <div className="health__charts" aria-label={label}>
          <Chart title="First response p95 per channel (s)" rows={rows} lines={perChannel} unit="s" />
          <Chart
            title="Escalation and automation rate (%)"
            rows={rows}
            unit="%"
            lines={[
              { key: 'escalation', name: 'Escalated', color: '#dc2626' },
              { key: 'automation', name: 'Automated', color: '#16a34a' },
            ]}
          />
          <Chart
            title="Lag: inbound messages waiting for the worker"
            rows={rows}
            counts
            lines={[{ key: 'waiting', name: 'Waiting', color: '#7c3aed' }]}
          />
          <Chart
            title={`Dead letters per ${stepS / 60} min`}
            rows={rows}
            counts
            lines={[{ key: 'dead', name: 'Dead letters', color: '#dc2626' }]}
          />
          <Chart
            title="Inbox: age of the oldest draft (min)"
            rows={rows}
            unit="m"
            lines={[{ key: 'draftAge', name: 'Oldest draft', color: '#d97706' }]}
          />
        </div>
      </Panel>
    </div>
  );
}
