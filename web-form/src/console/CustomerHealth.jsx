import { CartesianGrid, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import { when, words } from '../shared/format.js';
import { usePolled } from '../shared/usePolled.js';
import { Panel } from './Panel.jsx';

const day = (at) => new Date(at).toLocaleDateString([], { month: 'short', day: 'numeric' });
const percent = (p) => `${Math.round(p * 100)}%`;

/** The history as chart rows: one per stored score, oldest first. */
export function historyRows(history) {
  return history.map((point) => ({ at: day(point.computed_at), score: point.score }));
}

function trendText(trend) {
  if (!trend) return 'unchanged';
  return trend > 0 ? `up ${trend}` : `down ${-trend}`;
}

/** One customer's health: score, band, trend, the factors' breakdown and the score over time. */
export function CustomerHealth({ api, customerId, name, revision = 0 }) {
  const { data, error } = usePolled(
    () => api.customerHealth(customerId),
    `${revision}:${customerId}`,
    30_000,
  );
  return (
    <Panel title={`Health of ${name}`} className="customer-health" loading={!data} error={error}>
      {data && (
        <div className="customer-health__body">
          <p className="customer-health__score">
            <strong className={`customer-health__band customer-health__band--${data.band}`}>
              {data.score} / 100 · {data.band}
            </strong>{' '}
            <span>({trendText(data.trend)})</span>
          </p>
          <p>
            Churn risk {percent(data.churn_risk)} ({data.churn_band}) · engagement {percent(data.engagement)}
            {' · '}
            <span className="muted">
              {data.stored ? `scored ${when(data.computed_at)}` : 'not scored by a sweep yet: computed now'}
              {data.heat && ` · ${data.heat}, next look ${when(data.next_look_at)}`}
            </span>
          </p>
          <ul className="customer-health__factors" aria-label="Score breakdown">
            {data.breakdown.map((factor) => (
              <li key={factor.factor} className={factor.points < factor.max_points ? 'is-lost' : undefined}>
                <span className="customer-health__factor">{words(factor.factor)}</span> {factor.label}
              </li>
            ))}
          </ul>
          {data.history.length > 0 ? (
            <figure className="health__chart" aria-label="Health score over time">
              <figcaption>Health score over time</figcaption>
              <LineChart
                width={440}
                height={180}
                data={historyRows(data.history)}
                margin={{ top: 8, right: 16, left: 0, bottom: 0 }}
              >
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="at" minTickGap={30} fontSize={11} />
                <YAxis domain={[0, 100]} fontSize={11} />
                <Tooltip />
                <ReferenceLine y={data.bands.poor_below} stroke="#dc2626" strokeDasharray="4 4" />
                <ReferenceLine y={data.bands.good_from} stroke="#16a34a" strokeDasharray="4 4" />
                <Line
                  type="stepAfter"
                  dataKey="score"
                  name="Score"
                  stroke="#2563eb"
                  dot={{ r: 2 }}
                  isAnimationActive={false}
                />
              </LineChart>
            </figure>
          ) : (
            <p className="empty">No score history yet.</p>
          )}
        </div>
      )}
    </Panel>
  );
}
