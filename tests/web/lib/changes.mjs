// Changes stamped as a device stamps them: its own 16-hex site id and a
// strictly increasing hybrid clock from the real time (Hlc: 12 hex digits of
// milliseconds, 6 of counter, 16 of site).
import { randomBytes } from 'node:crypto';

export class ChangeMaker {
  constructor() {
    this.site = randomBytes(8).toString('hex');
    this.lastMs = 0;
    this.counter = 0;
  }

  hlc(offsetMs = 0) {
    const now = Date.now() + offsetMs;
    if (now > this.lastMs) {
      this.lastMs = now;
      this.counter = 0;
    } else {
      this.counter += 1;
    }
    return `${this.lastMs.toString(16).padStart(12, '0')}-${this.counter.toString(16).padStart(6, '0')}-${this.site}`;
  }

  static id(kind) {
    return `${kind}_${randomBytes(8).toString('hex')}`;
  }

  create(school, kind, value, { record = ChangeMaker.id(kind), offsetMs = 0 } = {}) {
    return { hlc: this.hlc(offsetMs), record, kind, school, op: 'create', value };
  }

  // op set / add / remove on `field` of the record `of` (a change creating it).
  edit(of, op, field, value) {
    return { hlc: this.hlc(), record: of.record, kind: of.kind, school: of.school, op, field, value };
  }
}
