import { useState } from 'react';
import { Field } from '../shared/Field.jsx';
import { useAction } from '../shared/useAction.js';
import { Panel } from './Panel.jsx';

/** Save a file the browser holds in memory under `filename`. */
function save(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url)); // after the browser has taken the file
}

/** Download the tenant's whole audit trail (the key travels in a header, so not a plain link). */
export function AuditExport({ api, tenantId }) {
  const [format, setFormat] = useState('jsonl');
  const download = useAction(async () =>
    save(await api.exportAudit(format), `care-audit-${tenantId}.${format}`),
  );

  return (
    <Panel title="Audit export">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          download.perform();
        }}
      >
        <fieldset disabled={download.busy}>
          <legend className="visually-hidden">Export the audit trail</legend>
          <Field
            id="audit-format"
            label="Format"
            as="select"
            value={format}
            onChange={(event) => setFormat(event.target.value)}
          >
            <option value="jsonl">JSON lines</option>
            <option value="csv">CSV</option>
          </Field>
          <button type="submit" className="button">
            {download.busy ? 'Preparing…' : 'Download audit'}
          </button>
        </fieldset>
        <p className="form-problem" role="alert">
          {download.error?.message}
        </p>
      </form>
    </Panel>
  );
}
