// A strict RFC 4180 reader for the exports: quoted fields (doubled quotes,
// separators and line breaks inside), CRLF records, an optional UTF-8 BOM.
// Throws on anything RFC 4180 does not allow (a quote inside an unquoted
// field, text after a closing quote, a record of another width).
export function parseCsv(text, separator = ',') {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const rows = [];
  let row = [], field = '', quoted = false, afterQuote = false;
  const endField = () => { row.push(field); field = ''; quoted = false; afterQuote = false; };
  for (; i < text.length; ++i) {
    const ch = text[i];
    if (quoted && !afterQuote) {
      if (ch !== '"') field += ch;
      else if (text[i + 1] === '"') { field += '"'; ++i; } else afterQuote = true;
      continue;
    }
    if (ch === separator) endField();
    else if (ch === '\r' && text[i + 1] === '\n') { endField(); rows.push(row); row = []; ++i; }
    else if (afterQuote) throw new Error(`CSV: text after a closing quote at ${i}`);
    else if (ch === '"' && field === '' && !quoted) quoted = true;
    else if (ch === '"' || ch === '\n' || ch === '\r') throw new Error(`CSV: bare ${JSON.stringify(ch)} in an unquoted field at ${i}`);
    else field += ch;
  }
  if (quoted && !afterQuote) throw new Error('CSV: unterminated quoted field');
  if (field !== '' || row.length) { endField(); rows.push(row); }
  const width = rows[0]?.length ?? 0;
  rows.forEach((r, n) => { if (r.length !== width) throw new Error(`CSV: record ${n} has ${r.length} fields, the header ${width}`); });
  return rows;
}

// [{column: value}] from the rows of parseCsv (the first is the header).
export function records(rows) {
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, k) => [h, r[k]])));
}
