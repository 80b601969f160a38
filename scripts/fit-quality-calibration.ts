/**
 * `make train`: fits the quality calibration (src/quality/calibration.ts, Platt scaling) on the
 * TRAIN split of the local model's collected answers (eval/quality/local-answers.jsonl, from
 * eval/collect-local-answers.ts) and writes src/quality/calibration.json. The held-out split is
 * not looked at; eval/run-quality-eval.ts reports it. Deterministic: the same file, the same artefact.
 *
 *   node --import tsx scripts/fit-quality-calibration.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fitShippedCalibration } from '../eval/quality/fit-calibration.js';
import { plattProbability } from '../src/quality/calibration.js';

const ARTEFACT = fileURLToPath(new URL('../src/quality/calibration.json', import.meta.url));

const artefact = await fitShippedCalibration();
writeFileSync(ARTEFACT, `${JSON.stringify(artefact, null, 2)}\n`);
process.stdout.write(
  `P(correct) = σ(${artefact.a} · score + ${artefact.b}) from ${artefact.fitted_on.items} train answers (${artefact.fitted_on.correct} correct) of ${artefact.fitted_on.model}\n` +
    `score 1 → ${plattProbability(artefact, 1).toFixed(3)}, score 0.3 → ${plattProbability(artefact, 0.3).toFixed(3)}\n` +
    `wrote ${ARTEFACT}\n`,
);
