// Wiring for informers over custom resources. The watch path and the list
// call must describe the same collection (scope and label selector), or the
// cache would mix a list of one set with watch events of another; building
// both from one reference keeps them in step.

import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ListPromise,
} from "@kubernetes/client-node";
import { ResilientInformer, type ResilientInformerOptions } from "./informer.js";

export interface CustomResourceRef {
  group: string;
  version: string;
  plural: string;
  /** Watch one namespace only; omit for all namespaces / cluster-scoped resources. */
  namespace?: string;
  labelSelector?: string;
}

/** `/apis/<group>/<version>[/namespaces/<ns>]/<plural>` */
export function customResourcePath(ref: CustomResourceRef): string {
  const base = `/apis/${ref.group}/${ref.version}`;
  return ref.namespace
    ? `${base}/namespaces/${encodeURIComponent(ref.namespace)}/${ref.plural}`
    : `${base}/${ref.plural}`;
}

export function customResourceListFn<T extends KubernetesObject>(kc: KubeConfig, ref: CustomResourceRef): ListPromise<T> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const { group, version, plural, namespace, labelSelector } = ref;
  // The custom-objects API is untyped (`Promise<any>`): it returns the raw list.
  return async () =>
    (namespace
      ? await api.listNamespacedCustomObject({ group, version, plural, namespace, labelSelector })
      : await api.listClusterCustomObject({ group, version, plural, labelSelector })) as KubernetesListObject<T>;
}

export type CustomResourceInformerOptions<T extends KubernetesObject> = Omit<
  ResilientInformerOptions<T>,
  "path" | "listFn" | "kubeConfig" | "labelSelector"
>;

/** A ResilientInformer for a custom resource, e.g. `{group: "zerolaghub.dev", version: "v1alpha1", plural: "gameservers"}`. */
export function customResourceInformer<T extends KubernetesObject>(
  kc: KubeConfig,
  ref: CustomResourceRef,
  options: CustomResourceInformerOptions<T> = {},
): ResilientInformer<T> {
  return new ResilientInformer<T>({
    ...options,
    kubeConfig: kc,
    path: customResourcePath(ref),
    listFn: customResourceListFn<T>(kc, ref),
    labelSelector: ref.labelSelector,
  });
}
