import type { RoutingState } from '../routing/routing-state.js';
import { TierClassifier, type TierModel } from '../routing/tier-classifier.js';
import type { Softmax } from '../routing/tier-training.js';
import type { ClassifierInForce } from './classifier-retrain.js';
import type { LiveSettings, ProposalStore } from './proposal-store.js';

/**
 * Putting an applied proposal's re-fitted classifier into routing. applied.json names the proposal
 * (`classifier_version`) rather than copying its weights: the proposal file, written once and never
 * changed, is the one place they live, so a rollback or a restart reads exactly what was proposed.
 */

export const classifierVersionName = (version: number) => `optimizer v${version}`;

/** The shipped model with the proposal's features-only softmax in its place; the embedding model and the rules stay. */
export function refittedClassifier(shipped: TierModel, featuresOnly: Softmax, version: number): TierClassifier {
  return new TierClassifier({ ...shipped, featuresOnly, trainedOn: { ...shipped.trainedOn, refit: classifierVersionName(version) } });
}

/** The re-fit the settings put in force, or undefined for the shipped classifier. */
export function classifierInForce(store: ProposalStore, settings: LiveSettings): ClassifierInForce | undefined {
  const version = settings.classifier_version;
  if (version === undefined) return undefined;
  const model = store.get(version).classifier_model;
  if (!model) throw new Error(`applied.json names proposal ${version} for the tier classifier, and it carries no classifier_model`);
  return { version: classifierVersionName(version), model };
}

/** Why the router cannot take a re-fitted classifier (it runs the rules), or undefined when it can. */
export function classifierRefusal(routing: RoutingState): string | undefined {
  const live = routing.classifier;
  if (!live || live.initial instanceof TierClassifier) return undefined;
  return `this gateway routes with routing.classifier "${live.initialVersion}": a re-fitted trained classifier cannot go in`;
}

/**
 * Puts the classifier the settings name into the router's holder: the proposal's re-fit, or the
 * one config chose at start. A routing state without a holder (no gateway) is left alone.
 */
export function applyClassifier(routing: RoutingState, settings: LiveSettings, store: ProposalStore, reason: string): void {
  const live = routing.classifier;
  if (!live) return;
  const refit = classifierInForce(store, settings);
  if (!refit) return routing.setClassifier(live.initial, live.initialVersion, reason);
  if (live.version === refit.version) return;
  if (!(live.initial instanceof TierClassifier)) throw new Error(classifierRefusal(routing));
  routing.setClassifier(refittedClassifier(live.initial.model, refit.model, settings.classifier_version!), refit.version, reason);
}
