// storage.k8s.io/v1: StorageClass, which dynamic provisioning reads to make volumes for claims.
import { defineComponents } from '../schema.ts';
import { CORE, str, strEnum, bool, arrOf, strings, strMap, obj, kindWithList, gvk, atomic, atomicStruct } from './helpers.ts';

defineComponents({
  ...kindWithList('io.k8s.api.storage.v1.StorageClass',
    'A StorageClass describes a kind of storage that volumes can be provisioned dynamically from: the provisioner and its parameters. Claims ask for a class by name; the class marked default is used when a claim names none. StorageClasses are cluster-scoped.',
    gvk('storage.k8s.io', 'v1', 'StorageClass'), {
      allowVolumeExpansion: bool('Whether claims of this class may be grown by raising their storage request.'),
      allowedTopologies: arrOf(CORE + 'TopologySelectorTerm', 'Topologies (e.g. zones) where volumes may be provisioned; anywhere when empty.', atomic),
      mountOptions: strings('Mount options given to volumes made from this class; not validated, so a bad option makes mounts fail.', atomic),
      parameters: strMap('Provisioner-specific parameters.'),
      provisioner: str('Name of the provisioner that creates volumes of this class.'),
      reclaimPolicy: strEnum('Reclaim policy of the volumes made: Delete (the default) or Retain.', ['Delete', 'Recycle', 'Retain']),
      volumeBindingMode: strEnum('When claims are bound and provisioned: Immediate (the default) or WaitForFirstConsumer, which waits until a pod using the claim is scheduled.', ['Immediate', 'WaitForFirstConsumer']),
    }, 'StorageClasses', { required: ['provisioner'] }),
  [CORE + 'TopologySelectorTerm']: obj('Topology requirements, ANDed together.', {
    matchLabelExpressions: arrOf(CORE + 'TopologySelectorLabelRequirement', 'Requirements on topology labels.', atomic),
  }, atomicStruct),
  [CORE + 'TopologySelectorLabelRequirement']: obj('A topology label and the values it may take.', {
    key: str('The topology label key.'),
    values: strings('Allowed values; one must match.', atomic),
  }, { required: ['key', 'values'] }),
});
