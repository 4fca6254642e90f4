/**
 * The telemetry thread of a run without a result DB: a Web Worker that only hosts the telemetry
 * service (`telemetry_service.ts`). A run with a DB hosts the service on the DB's writer thread
 * instead (`store/db_worker.ts`), an isolate fewer.
 *
 * @module
 */
import { serveTelemetry, type TelemetryPort } from "./telemetry_service.ts";

serveTelemetry(self as unknown as TelemetryPort);
