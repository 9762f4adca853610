// Importing this module registers every component schema in `components` (src/api/schema.ts).
import './meta.ts';
import './core-pod.ts';
import './core.ts';
import './apps.ts';
import './storage.ts';
import './coordination.ts';
import './policy.ts';
import './discovery.ts';
import './autoscaling.ts';
import './authentication.ts';
import './certificates.ts';
import '../../apiextensions/schemas.ts';
import './rbac.ts';
import './authorization.ts';
import './workloads.ts';
import './networking.ts';
import './autoscaling-v2.ts';
