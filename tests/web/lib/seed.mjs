// A school seeded the way a school fills it: the administration creates the
// school and its people (tandem-server admin), three tablets enroll with
// one-time codes and record with the real `tandem` CLI, then sync with the
// real server. Returns the ids and the figures the overview must show,
// worked out by hand from what was recorded (dates move with today, so the
// month keys and due dates are computed; every count is a literal).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { cliBinary } from './server.mjs';

// Dates as the server counts them: Copenhagen days.
export const copenhagenToday = () =>
  new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Copenhagen' }).format(new Date());
export function addDays(day, n) {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
// The `day`-th of the month `n` months from the month of `from` (day <= 28).
export function monthDay(from, n, day) {
  const d = new Date(`${from.slice(0, 7)}-01T12:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + n);
  return `${d.toISOString().slice(0, 8)}${String(day).padStart(2, '0')}`;
}
const lastOfMonth = (from, n) => addDays(monthDay(from, n + 1, 1), -1);

class Tablet {
  constructor(dir, name) {
    this.db = path.join(dir, `${name}.db`);
    this.bin = cliBinary();
  }
  run(args) {
    const r = spawnSync(this.bin, ['--db', this.db, '--json', ...args], { encoding: 'utf8', timeout: 60000 });
    if (r.status !== 0) throw new Error(`tandem ${args.join(' ')}: ${r.status} ${r.stdout} ${r.stderr}`.trim());
    return r.stdout.trim() ? JSON.parse(r.stdout) : null;
  }
  id(args) { return this.run(args).id; }
  create(kind, fields) {
    return this.id([kind, 'create', ...Object.entries(fields).flatMap(([k, v]) => [`--${k.replace(/_/g, '-')}`, String(v)])]);
  }
}

export function seedSchool(server, dir) {
  const today = copenhagenToday();
  const admin = (args) => server.admin(args);
  const school = admin(['school', 'create', '--name', 'Skovbakkeskolen']).id;
  const person = (name, role, ...extra) =>
    admin(['person', 'add', '--school', school, '--name', name, '--role', role, ...extra]).id;
  const p = {
    anna: person('Anna Holm', 'resource_person'),
    mikkel: person('Mikkel Dahl', 'resource_person'),
    bo: person('Bo Jensen', 'teacher'),
    eva: person('Eva Lund', 'external', '--profession', 'psykolog'),
    lea: person('Lea Dam', 'leader'),
    tom: person('Tom Berg', 'teacher'),
  };
  const tablets = {};
  for (const who of ['anna', 'mikkel', 'bo']) {
    const t = new Tablet(dir, who);
    const code = server.admin(['enroll-code', '--person', p[who]], { json: false });
    t.run(['enroll', '--server', server.url, '--code', code, '--device-name', `${who} tablet`, '--quiet']);
    t.run(['sync', '--quiet']);
    tablets[who] = t;
  }
  const { anna, mikkel, bo } = tablets;

  const months = [-3, -1, 0].map((n) => monthDay(today, n, 3));
  const c = {};
  const g4b = anna.create('group', { name: '4.b', type: 'class' });
  c.c1 = anna.create('course', { kind: 'co_teaching', title: 'Dansk 4.b: læsning i fællesskab', target: 'group',
    focus_areas: 'relations', tovholder: p.anna, participants: `${p.anna},${p.bo}`, groups: g4b,
    status: 'active', start_date: months[0] });
  // Comma, quotes and Danish letters: the CSV must quote them.
  c.c2 = anna.create('course', { kind: 'co_teaching', title: 'Matematik 4.b: "ro", fokus & æøå', target: 'group',
    focus_areas: 'relations,classroom_management', tovholder: p.bo, participants: `${p.bo},${p.anna}`,
    groups: g4b, status: 'completed', start_date: months[0], environment_changed: 'yes' });
  c.c4 = anna.create('course', { kind: 'guidance', title: 'Vejledning om inklusion', target: 'professionals',
    focus_areas: 'inclusion_plan', tovholder: p.anna, participants: p.anna, status: 'planned', start_date: months[2] });
  const at = (day, n, time) => `${addDays(day, n)}T${time}Z`;
  const s1 = anna.create('session', { course: c.c1, approach: 'station', started_at: at(months[0], 7, '08:00:00') });
  anna.run(['set', s1, 'log', 'Stationerne virkede; gruppe 2 læste højt.']);
  anna.create('session', { course: c.c1, approach: 'parallel', started_at: at(months[0], 14, '08:00:00') });
  anna.create('session', { course: c.c2, approach: 'station', started_at: at(months[0], 10, '09:00:00') });
  anna.run(['set', c.c1, 'goals', 'Alle elever læser med i fællesskabet.']);

  // Mikkel observes (COPUS, two-minute intervals) and plans a second observation.
  c.c3 = mikkel.create('course', { kind: 'observation', title: 'Klasseledelse 6.a', target: 'group',
    focus_areas: 'classroom_management', tovholder: p.mikkel, participants: p.mikkel, status: 'active',
    start_date: months[1] });
  c.c5 = mikkel.create('course', { kind: 'observation', title: 'Trivsel i 2.c', tovholder: p.mikkel,
    start_date: months[2] });
  const copus = mikkel.create('template', { name: 'COPUS', kind: 'interval', interval_seconds: 120,
    definition: JSON.stringify({ groups: [{ group: 'I' }, { group: 'S' }],
      codes: ['Lec', 'PQ', 'MG'].map((x) => ({ code: `I-${x}`, group: 'I' }))
        .concat(['L', 'AnQ', 'WG'].map((x) => ({ code: `S-${x}`, group: 'S' }))) }) });
  const s4 = mikkel.create('session', { course: c.c3, template: copus, interval_seconds: 120, observer: p.mikkel,
    started_at: at(months[1], 2, '09:00:00') });
  const ticks = [['I-Lec', 'S-L'], ['I-Lec', 'S-L'], ['I-PQ', 'S-AnQ'], ['I-MG', 'S-WG']];
  ticks.forEach((codes, iv) => codes.forEach((code) => mikkel.run(['record', s4, '--tick', code, '--interval', String(iv)])));

  // Meetings of the resource team, with need situations and follow-up.
  const m1 = anna.create('meeting', { date: addDays(today, -40), title: 'Ressourceteam', themes: 'trivsel,inklusion',
    participants: `${p.anna},${p.mikkel},${p.eva}` });
  anna.create('agenda_item', { meeting: m1, need: 'child_intervention', title: 'Elev i 3.a' });
  anna.create('agenda_item', { meeting: m1, need: 'group_intervention', title: 'Uro i 5.b' });
  const m2 = anna.create('meeting', { date: addDays(today, -12), title: 'Ressourceteam', themes: 'trivsel',
    participants: `${p.anna},${p.lea}` });
  anna.create('agenda_item', { meeting: m2, need: 'pedagogical_development', title: 'Fælles læsestrategi' });
  const item = anna.create('agenda_item', { meeting: m2, need: 'child_intervention', title: 'Elev i 1.b' });

  // Actions: two overdue, one open, two done (one of them on time).
  const action = (text, tovholder, due, source) =>
    anna.create('action', { text, tovholder, due, ...(source ? { source } : {}) });
  const a = {
    a1: action('Lav læseplan for gruppe 3', p.bo, addDays(today, -10), c.c1),
    a2: action('Ring til forældrene', p.mikkel, addDays(today, -3), item),
    a3: action('Aftal forældresamtale', p.anna, addDays(today, 20), c.c2),
    a4: action('Kopiér læsetekster', p.bo, addDays(today, -20)),
    a5: action('Book lokale til workshop', p.anna, addDays(today, 5)),
  };
  anna.run(['set', a.a4, 'done', 'true']);  // done today: after its due date
  anna.run(['set', a.a5, 'done', 'true']);  // done today: on time

  for (const t of [anna, mikkel, bo]) t.run(['sync', '--quiet']);
  bo.create('reflection', { session: s1, author: p.bo, text: 'Jeg vil gerne prøve holddeling næste gang.' });
  for (const t of [bo, anna, mikkel]) t.run(['sync', '--quiet']);

  const range = { from: monthDay(today, -3, 1), to: lastOfMonth(today, 1) };
  const expected = {
    courses_total: 5,
    courses_by_kind: { co_teaching: 2, observation: 2, guidance: 1 },
    courses_by_focus_area: { relations: 2, classroom_management: 2, inclusion_plan: 1 },
    courses_by_month: { [months[0].slice(0, 7)]: 2, [months[1].slice(0, 7)]: 1, [months[2].slice(0, 7)]: 2 },
    courses_by_status: { active: 2, completed: 1, planned: 1 },
    courses_by_group: { '4.b': 2 },
    courses_by_evaluation: { yes: 1, none: 4 },
    sessions_total: 4,
    sessions_by_approach: { station: 2, parallel: 1 },
    actions: { total: 5, open: 3, overdue: 2, done: 2, done_on_time: 1 },
    overdue: [{ id: a.a1, tovholder_name: 'Bo Jensen', source: c.c1 }, { id: a.a2, tovholder_name: 'Mikkel Dahl', source: item }],
    agenda_items_by_need: { child_intervention: 2, group_intervention: 1, pedagogical_development: 1 },
    meetings: { total: 2, themes: { trivsel: 2, inklusion: 1 },
                by_profession: { resource_person: 3, psykolog: 1, leader: 1 },
                follow_up: { actions: 1, open: 1, overdue: 1, done: 0 } },
    workload: {
      [p.anna]: { courses: 3, tovholder: 2, participant: 3, sessions: 3, observations: 0 },
      [p.bo]: { courses: 2, tovholder: 1, participant: 2, sessions: 3, observations: 0 },
      [p.mikkel]: { courses: 2, tovholder: 2, participant: 1, sessions: 1, observations: 1 },
    },
    // COPUS over the one observed session: 4 intervals, I-Lec in 2 of them.
    copus: { template_name: 'COPUS', sessions: 1, 'I-Lec': 50, 'S-WG': 25 },
  };
  return { school, people: p, courses: c, actions: a, months, range, today, expected };
}
