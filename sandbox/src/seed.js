// Deterministic seed data for the sandbox FHIR server.
//
// Everything here is computed from the record's index: no Math.random, no clock.
// Two runs produce byte-identical resources, so tests may rely on fixed ids
// (pat-0001, enc-0001-1, obs-0001-01, ...) and on fixed counts.

export const PATIENT_COUNT = 250;
export const PRACTITIONER_COUNT = 10;
export const ENCOUNTERS_PER_PATIENT = 2;
export const OBSERVATIONS_PER_ENCOUNTER = 2;

// All seeded resources carry this version and timestamp. A later write gets a
// server-generated versionId and the current time, as on any server.
export const SEED_VERSION_ID = '1';
export const SEED_LAST_UPDATED = '2024-01-01T00:00:00.000Z';

const MRN_SYSTEM = 'http://sandbox.fhir-smart.example/mrn';
const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';

const GIVEN_F = ['Mary', 'Patricia', 'Jennifer', 'Linda', 'Elizabeth', 'Barbara', 'Susan', 'Jessica', 'Sarah', 'Karen', 'Amara', 'Yuki', 'Fatima', 'Ingrid', 'Lucia'];
const GIVEN_M = ['James', 'Robert', 'John', 'Michael', 'David', 'William', 'Richard', 'Joseph', 'Thomas', 'Charles', 'Kwame', 'Hiroshi', 'Omar', 'Lars', 'Mateo'];
const FAMILY = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson', 'Okafor', 'Nakamura'];
const CITIES = [['Boston', 'MA', '02115'], ['Madison', 'WI', '53703'], ['Austin', 'TX', '78701'], ['Portland', 'OR', '97205'], ['Denver', 'CO', '80202'], ['Raleigh', 'NC', '27601']];

// Vital signs and labs with their LOINC code, UCUM unit and a base value.
// The measured value varies with the index inside a plausible range.
const OBS_KINDS = [
  { code: '8867-4', display: 'Heart rate', unit: '/min', base: 60, spread: 40, category: 'vital-signs' },
  { code: '8480-6', display: 'Systolic blood pressure', unit: 'mm[Hg]', base: 105, spread: 45, category: 'vital-signs' },
  { code: '8462-4', display: 'Diastolic blood pressure', unit: 'mm[Hg]', base: 65, spread: 25, category: 'vital-signs' },
  { code: '8310-5', display: 'Body temperature', unit: 'Cel', base: 36.1, spread: 1.8, category: 'vital-signs', decimals: 1 },
  { code: '29463-7', display: 'Body weight', unit: 'kg', base: 50, spread: 55, category: 'vital-signs', decimals: 1 },
  { code: '8302-2', display: 'Body height', unit: 'cm', base: 150, spread: 45, category: 'vital-signs' },
  { code: '39156-5', display: 'Body mass index (BMI) [Ratio]', unit: 'kg/m2', base: 18, spread: 17, category: 'vital-signs', decimals: 1 },
  { code: '2339-0', display: 'Glucose [Mass/volume] in Blood', unit: 'mg/dL', base: 70, spread: 90, category: 'laboratory' },
  { code: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood', unit: '%', base: 4.8, spread: 4, category: 'laboratory', decimals: 1 },
  { code: '2093-3', display: 'Cholesterol [Mass/volume] in Serum or Plasma', unit: 'mg/dL', base: 140, spread: 120, category: 'laboratory' },
];

const pad = (n, width) => String(n).padStart(width, '0');
const meta = () => ({ versionId: SEED_VERSION_ID, lastUpdated: SEED_LAST_UPDATED });

// A small integer hash so that values look varied yet stay reproducible.
function mix(...ns) {
  let h = 2166136261;
  for (const n of ns) {
    h = Math.imul(h ^ n, 16777619) >>> 0;
  }
  return h;
}

function isoDate(daysAfter2020) {
  const d = new Date(Date.UTC(2020, 0, 1) + daysAfter2020 * 86400000);
  return d.toISOString().slice(0, 10);
}

export const patientId = (i) => `pat-${pad(i, 4)}`;
export const practitionerId = (i) => `prac-${pad(i, 4)}`;
export const encounterId = (p, e) => `enc-${pad(p, 4)}-${e}`;
export const observationId = (p, e, o) => `obs-${pad(p, 4)}-${e}${o}`;

function organization() {
  return {
    resourceType: 'Organization',
    id: 'org-0001',
    meta: meta(),
    active: true,
    name: 'Sandbox General Hospital',
    identifier: [{ system: 'http://sandbox.fhir-smart.example/org', value: 'SGH' }],
  };
}

function practitioner(i) {
  const female = i % 2 === 1;
  const given = (female ? GIVEN_F : GIVEN_M)[(i * 7) % 15];
  const family = FAMILY[(i * 11) % FAMILY.length];
  return {
    resourceType: 'Practitioner',
    id: practitionerId(i),
    meta: meta(),
    active: true,
    identifier: [{ system: NPI_SYSTEM, value: String(1000000000 + i * 7919) }],
    name: [{ use: 'official', family, given: [given], prefix: ['Dr.'] }],
    gender: female ? 'female' : 'male',
  };
}

function patient(i) {
  const female = i % 2 === 1;
  const given = (female ? GIVEN_F : GIVEN_M)[mix(i, 1) % 15];
  const family = FAMILY[mix(i, 2) % FAMILY.length];
  const [city, state, zip] = CITIES[i % CITIES.length];
  const birth = new Date(Date.UTC(1930, 0, 1) + (mix(i, 3) % 30000) * 86400000).toISOString().slice(0, 10);
  return {
    resourceType: 'Patient',
    id: patientId(i),
    meta: meta(),
    active: true,
    identifier: [{ use: 'usual', system: MRN_SYSTEM, value: `MRN${pad(i, 6)}` }],
    name: [{ use: 'official', family, given: [given] }],
    telecom: [{ system: 'phone', value: `555-01${pad(i % 100, 2)}`, use: 'home' }],
    gender: female ? 'female' : 'male',
    birthDate: birth,
    address: [{ use: 'home', line: [`${100 + i} Main Street`], city, state, postalCode: zip, country: 'US' }],
    generalPractitioner: [{ reference: `Practitioner/${practitionerId(1 + (i % PRACTITIONER_COUNT))}` }],
    managingOrganization: { reference: 'Organization/org-0001' },
  };
}

function encounter(p, e) {
  const day = (mix(p, e, 4) % 1400) + e * 30;
  const prac = 1 + ((p + e) % PRACTITIONER_COUNT);
  return {
    resourceType: 'Encounter',
    id: encounterId(p, e),
    meta: meta(),
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
    type: [{ coding: [{ system: 'http://snomed.info/sct', code: '185349003', display: 'Encounter for check up' }] }],
    subject: { reference: `Patient/${patientId(p)}` },
    participant: [{ individual: { reference: `Practitioner/${practitionerId(prac)}` } }],
    period: { start: `${isoDate(day)}T09:00:00Z`, end: `${isoDate(day)}T09:30:00Z` },
    serviceProvider: { reference: 'Organization/org-0001' },
  };
}

function observation(p, e, o) {
  const kind = OBS_KINDS[mix(p, e, o, 5) % OBS_KINDS.length];
  const fraction = (mix(p, e, o, 6) % 1000) / 1000;
  const factor = 10 ** (kind.decimals ?? 0);
  const value = Math.round((kind.base + kind.spread * fraction) * factor) / factor;
  const day = (mix(p, e, 4) % 1400) + e * 30;
  return {
    resourceType: 'Observation',
    id: observationId(p, e, o),
    meta: meta(),
    status: 'final',
    category: [
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/observation-category',
            code: kind.category,
            display: kind.category === 'vital-signs' ? 'Vital Signs' : 'Laboratory',
          },
        ],
      },
    ],
    code: { coding: [{ system: LOINC, code: kind.code, display: kind.display }], text: kind.display },
    subject: { reference: `Patient/${patientId(p)}` },
    encounter: { reference: `Encounter/${encounterId(p, e)}` },
    effectiveDateTime: `${isoDate(day)}T09:${pad(10 + o, 2)}:00Z`,
    valueQuantity: { value, unit: kind.unit, system: UCUM, code: kind.unit },
  };
}

/** Returns the seed resources in a fixed order. */
export function seedResources() {
  const out = [organization()];
  for (let i = 1; i <= PRACTITIONER_COUNT; i++) out.push(practitioner(i));
  for (let p = 1; p <= PATIENT_COUNT; p++) out.push(patient(p));
  for (let p = 1; p <= PATIENT_COUNT; p++) {
    for (let e = 1; e <= ENCOUNTERS_PER_PATIENT; e++) out.push(encounter(p, e));
  }
  for (let p = 1; p <= PATIENT_COUNT; p++) {
    for (let e = 1; e <= ENCOUNTERS_PER_PATIENT; e++) {
      for (let o = 1; o <= OBSERVATIONS_PER_ENCOUNTER; o++) out.push(observation(p, e, o));
    }
  }
  return out;
}
