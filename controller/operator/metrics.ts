// controller-runtime's metric names, so existing dashboards and alerts for Go operators work here.
import client from 'prom-client';
import { registry } from '../../services/core/metrics.js';

const registers = [registry];
export const controllerMetrics = {
  reconcileTotal: new client.Counter({ name: 'controller_runtime_reconcile_total', help: 'Total reconciliations per controller and result', labelNames: ['controller', 'result'] as const, registers }),
  reconcileErrors: new client.Counter({ name: 'controller_runtime_reconcile_errors_total', help: 'Total reconciliation errors per controller', labelNames: ['controller'] as const, registers }),
  reconcileTime: new client.Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  }),
  activeWorkers: new client.Gauge({ name: 'controller_runtime_active_workers', help: 'Number of currently used workers per controller', labelNames: ['controller'] as const, registers }),
  maxWorkers: new client.Gauge({ name: 'controller_runtime_max_concurrent_reconciles', help: 'Maximum number of concurrent reconciles per controller', labelNames: ['controller'] as const, registers }),
  workqueueDepth: new client.Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'] as const, registers }),
  workqueueAdds: new client.Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name'] as const, registers }),
  workqueueRetries: new client.Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: ['name'] as const, registers }),
  leader: new client.Gauge({ name: 'leader_election_master_status', help: '1 if this replica is the leader of the named lease', labelNames: ['name'] as const, registers }),
  watchRestarts: new client.Counter({ name: 'plansync_controller_watch_restarts_total', help: 'PlanSource watch restarts by reason', labelNames: ['reason'] as const, registers }),
  desiredReplicas: new client.Gauge({ name: 'plansync_autoscaler_desired_replicas', help: 'Processor replicas the autoscaler wants', registers }),
  observedDepth: new client.Gauge({ name: 'plansync_autoscaler_queue_depth', help: 'Process queue depth (queued + active) seen by the autoscaler', registers }),
};
