/**
 * XML in the shape the EC2 Query API answers: element per key, arrays as `<xSet><item>…</item></xSet>`
 * (the caller names the set), booleans as true/false, absent values left out.
 */
export const EC2_NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export type XmlValue = string | number | boolean | null | undefined | XmlValue[] | { [key: string]: XmlValue };

const escape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function render(name: string, value: XmlValue): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return `<${name}>${value.map((v) => render('item', v)).join('')}</${name}>`;
  if (typeof value === 'object') {
    return `<${name}>${Object.entries(value).map(([k, v]) => render(k, v)).join('')}</${name}>`;
  }
  return `<${name}>${escape(String(value))}</${name}>`;
}

export function successDocument(action: string, requestId: string, body: Record<string, XmlValue>): string {
  const inner = Object.entries(body).map(([k, v]) => render(k, v)).join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_NAMESPACE}">` +
    `<requestId>${requestId}</requestId>${inner}</${action}Response>`
  );
}

/** Error documents differ from answers: root `Response`, and `RequestID` with a capital ID. */
export function errorDocument(code: string, message: string, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escape(code)}</Code>` +
    `<Message>${escape(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
  );
}
