#!/bin/sh
# Generated from packages/runtime/src/nats-access.ts by `node deploy/nats/generate.mjs`: do not edit.
# Creates every Busway user with its permissions in an nsc-managed account (operator / JWT mode), then
# exports their credentials: ./creds/busway-<worker>.creds, one Secret key each (NATS_CREDS).
set -eu
ACCOUNT="${ACCOUNT:-BUSWAY}"
mkdir -p creds
nsc add user --account "$ACCOUNT" --name busway-ingest-sparkplug \
  --allow-pub 'raw.v1.samples.sparkplug.>,audit.v1.sparkplug.>,dlq.v1.ingest-sparkplug,$JS.API.INFO,$KV.sparkplug-births.>,$JS.API.STREAM.INFO.KV_sparkplug-births,$JS.API.STREAM.CREATE.KV_sparkplug-births,$JS.API.STREAM.MSG.GET.KV_sparkplug-births,$JS.API.DIRECT.GET.KV_sparkplug-births,$JS.API.DIRECT.GET.KV_sparkplug-births.>,$JS.API.CONSUMER.CREATE.KV_sparkplug-births,$JS.API.CONSUMER.CREATE.KV_sparkplug-births.>,$JS.API.CONSUMER.INFO.KV_sparkplug-births.*,$JS.API.CONSUMER.DELETE.KV_sparkplug-births.*,$JS.FC.KV_sparkplug-births.>' \
  --allow-sub '_INBOX.ingest-sparkplug.>'
nsc add user --account "$ACCOUNT" --name busway-ingest-dsx \
  --allow-pub 'raw.v1.samples.dsx-bms.>,audit.v1.dsx-bms.>,dlq.v1.ingest-dsx,$JS.API.INFO' \
  --allow-sub '_INBOX.ingest-dsx.>'
nsc add user --account "$ACCOUNT" --name busway-ingest-mqtt-json \
  --allow-pub 'raw.v1.samples.mqtt.>,audit.v1.mqtt.>,dlq.v1.ingest-mqtt-json,$JS.API.INFO' \
  --allow-sub '_INBOX.ingest-mqtt-json.>'
nsc add user --account "$ACCOUNT" --name busway-ingest-modbus \
  --allow-pub 'raw.v1.samples.modbus.>,audit.v1.modbus.>,dlq.v1.ingest-modbus,$JS.API.INFO' \
  --allow-sub '_INBOX.ingest-modbus.>'
nsc add user --account "$ACCOUNT" --name busway-ingest-snmp \
  --allow-pub 'raw.v1.samples.snmp.>,audit.v1.snmp.>,dlq.v1.ingest-snmp,$JS.API.INFO' \
  --allow-sub '_INBOX.ingest-snmp.>'
nsc add user --account "$ACCOUNT" --name busway-ingest-bacnet \
  --allow-pub 'raw.v1.samples.bacnet.>,audit.v1.bacnet.>,dlq.v1.ingest-bacnet,$JS.API.INFO' \
  --allow-sub '_INBOX.ingest-bacnet.>'
nsc add user --account "$ACCOUNT" --name busway-ingest-opcua \
  --allow-pub 'raw.v1.samples.opcua.>,dlq.v1.ingest-opcua,$JS.API.INFO' \
  --allow-sub '_INBOX.ingest-opcua.>'
nsc add user --account "$ACCOUNT" --name busway-normalizer \
  --allow-pub 'norm.v1.>,dlq.v1.normalizer,$JS.API.INFO,$JS.API.CONSUMER.INFO.RAW.normalizer,$JS.API.CONSUMER.MSG.NEXT.RAW.normalizer,$JS.ACK.RAW.normalizer.>' \
  --allow-sub '_INBOX.normalizer.>'
nsc add user --account "$ACCOUNT" --name busway-correlator \
  --allow-pub 'ordered.v1.>,incident.v1.>,dlq.v1.correlator,$JS.API.INFO,$JS.API.CONSUMER.INFO.NORM.correlator,$JS.API.CONSUMER.MSG.NEXT.NORM.correlator,$JS.ACK.NORM.correlator.>' \
  --allow-sub '_INBOX.correlator.>'
nsc add user --account "$ACCOUNT" --name busway-anomaly \
  --allow-pub 'anomaly.v1.>,dlq.v1.anomaly,$JS.API.INFO,$JS.API.CONSUMER.INFO.ORDERED.anomaly,$JS.API.CONSUMER.MSG.NEXT.ORDERED.anomaly,$JS.ACK.ORDERED.anomaly.>' \
  --allow-sub '_INBOX.anomaly.>'
nsc add user --account "$ACCOUNT" --name busway-fanout \
  --allow-pub 'uns.v1.>,events.v1.incident.>,events.v1.anomaly.>,dlq.v1.fanout,$JS.API.INFO,$JS.API.CONSUMER.INFO.ORDERED.fanout-samples,$JS.API.CONSUMER.MSG.NEXT.ORDERED.fanout-samples,$JS.ACK.ORDERED.fanout-samples.>,$JS.API.CONSUMER.INFO.INCIDENTS.fanout-incidents,$JS.API.CONSUMER.MSG.NEXT.INCIDENTS.fanout-incidents,$JS.ACK.INCIDENTS.fanout-incidents.>,$JS.API.CONSUMER.INFO.ANOMALIES.fanout-anomalies,$JS.API.CONSUMER.MSG.NEXT.ANOMALIES.fanout-anomalies,$JS.ACK.ANOMALIES.fanout-anomalies.>' \
  --allow-sub '_INBOX.fanout.>'
nsc add user --account "$ACCOUNT" --name busway-simulator \
  --allow-pub 'raw.v1.events.scheduler,dlq.v1.simulator,$JS.API.INFO' \
  --allow-sub '_INBOX.simulator.>'
nsc add user --account "$ACCOUNT" --name busway-provisioner \
  --allow-pub '$JS.API.INFO,$JS.API.STREAM.INFO.RAW,$JS.API.STREAM.CREATE.RAW,$JS.API.STREAM.UPDATE.RAW,$JS.API.CONSUMER.INFO.RAW.*,$JS.API.CONSUMER.CREATE.RAW.>,$JS.API.CONSUMER.DURABLE.CREATE.RAW.*,$JS.API.STREAM.INFO.NORM,$JS.API.STREAM.CREATE.NORM,$JS.API.STREAM.UPDATE.NORM,$JS.API.CONSUMER.INFO.NORM.*,$JS.API.CONSUMER.CREATE.NORM.>,$JS.API.CONSUMER.DURABLE.CREATE.NORM.*,$JS.API.STREAM.INFO.ORDERED,$JS.API.STREAM.CREATE.ORDERED,$JS.API.STREAM.UPDATE.ORDERED,$JS.API.CONSUMER.INFO.ORDERED.*,$JS.API.CONSUMER.CREATE.ORDERED.>,$JS.API.CONSUMER.DURABLE.CREATE.ORDERED.*,$JS.API.STREAM.INFO.INCIDENTS,$JS.API.STREAM.CREATE.INCIDENTS,$JS.API.STREAM.UPDATE.INCIDENTS,$JS.API.CONSUMER.INFO.INCIDENTS.*,$JS.API.CONSUMER.CREATE.INCIDENTS.>,$JS.API.CONSUMER.DURABLE.CREATE.INCIDENTS.*,$JS.API.STREAM.INFO.ANOMALIES,$JS.API.STREAM.CREATE.ANOMALIES,$JS.API.STREAM.UPDATE.ANOMALIES,$JS.API.CONSUMER.INFO.ANOMALIES.*,$JS.API.CONSUMER.CREATE.ANOMALIES.>,$JS.API.CONSUMER.DURABLE.CREATE.ANOMALIES.*,$JS.API.STREAM.INFO.DLQ,$JS.API.STREAM.CREATE.DLQ,$JS.API.STREAM.UPDATE.DLQ,$JS.API.CONSUMER.INFO.DLQ.*,$JS.API.CONSUMER.CREATE.DLQ.>,$JS.API.CONSUMER.DURABLE.CREATE.DLQ.*,$JS.API.STREAM.INFO.AUDIT,$JS.API.STREAM.CREATE.AUDIT,$JS.API.STREAM.UPDATE.AUDIT,$JS.API.CONSUMER.INFO.AUDIT.*,$JS.API.CONSUMER.CREATE.AUDIT.>,$JS.API.CONSUMER.DURABLE.CREATE.AUDIT.*,$JS.API.STREAM.INFO.ALARMS,$JS.API.STREAM.CREATE.ALARMS,$JS.API.STREAM.UPDATE.ALARMS,$JS.API.CONSUMER.INFO.ALARMS.*,$JS.API.CONSUMER.CREATE.ALARMS.>,$JS.API.CONSUMER.DURABLE.CREATE.ALARMS.*,$JS.API.STREAM.INFO.UNS,$JS.API.STREAM.CREATE.UNS,$JS.API.STREAM.UPDATE.UNS,$JS.API.CONSUMER.INFO.UNS.*,$JS.API.CONSUMER.CREATE.UNS.>,$JS.API.CONSUMER.DURABLE.CREATE.UNS.*,$JS.API.STREAM.INFO.ROLLUP_1M,$JS.API.STREAM.CREATE.ROLLUP_1M,$JS.API.STREAM.UPDATE.ROLLUP_1M,$JS.API.CONSUMER.INFO.ROLLUP_1M.*,$JS.API.CONSUMER.CREATE.ROLLUP_1M.>,$JS.API.CONSUMER.DURABLE.CREATE.ROLLUP_1M.*,$JS.API.STREAM.INFO.ROLLUP_1H,$JS.API.STREAM.CREATE.ROLLUP_1H,$JS.API.STREAM.UPDATE.ROLLUP_1H,$JS.API.CONSUMER.INFO.ROLLUP_1H.*,$JS.API.CONSUMER.CREATE.ROLLUP_1H.>,$JS.API.CONSUMER.DURABLE.CREATE.ROLLUP_1H.*' \
  --allow-sub '_INBOX.provisioner.>'
nsc generate creds --account "$ACCOUNT" --name busway-ingest-sparkplug > creds/busway-ingest-sparkplug.creds
nsc generate creds --account "$ACCOUNT" --name busway-ingest-dsx > creds/busway-ingest-dsx.creds
nsc generate creds --account "$ACCOUNT" --name busway-ingest-mqtt-json > creds/busway-ingest-mqtt-json.creds
nsc generate creds --account "$ACCOUNT" --name busway-ingest-modbus > creds/busway-ingest-modbus.creds
nsc generate creds --account "$ACCOUNT" --name busway-ingest-snmp > creds/busway-ingest-snmp.creds
nsc generate creds --account "$ACCOUNT" --name busway-ingest-bacnet > creds/busway-ingest-bacnet.creds
nsc generate creds --account "$ACCOUNT" --name busway-ingest-opcua > creds/busway-ingest-opcua.creds
nsc generate creds --account "$ACCOUNT" --name busway-normalizer > creds/busway-normalizer.creds
nsc generate creds --account "$ACCOUNT" --name busway-correlator > creds/busway-correlator.creds
nsc generate creds --account "$ACCOUNT" --name busway-anomaly > creds/busway-anomaly.creds
nsc generate creds --account "$ACCOUNT" --name busway-fanout > creds/busway-fanout.creds
nsc generate creds --account "$ACCOUNT" --name busway-simulator > creds/busway-simulator.creds
nsc generate creds --account "$ACCOUNT" --name busway-provisioner > creds/busway-provisioner.creds
