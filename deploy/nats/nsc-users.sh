#!/bin/sh
# Generated from packages/runtime/src/nats-access.ts by `node deploy/nats/generate.mjs`: do not edit.
# Creates every Busway user with its permissions in an nsc-managed account (operator / JWT mode), then
# exports their credentials: ./creds/busway-<worker>.creds, one Secret key each (NATS_CREDS).
set -eu
ACCOUNT="${ACCOUNT:-BUSWAY}"
mkdir -p creds
nsc add user --account "$ACCOUNT" --name busway-ingest-sparkplug \
  --allow-pub 'audit.v1.sparkplug.>,dlq.v1.ingest-sparkplug,$JS.API.INFO' \
  --allow-sub '_INBOX.ingest-sparkplug.>'
nsc add user --account "$ACCOUNT" --name busway-sparkplug-decode \
  --allow-pub 'raw.v1.samples.sparkplug.>,dlq.v1.sparkplug-decode,$JS.API.INFO,$JS.API.CONSUMER.INFO.AUDIT.*,$JS.API.CONSUMER.MSG.NEXT.AUDIT.*,$JS.ACK.AUDIT.*.>,$JS.API.STREAM.INFO.AUDIT,$JS.API.CONSUMER.CREATE.AUDIT.>,$JS.API.CONSUMER.DURABLE.CREATE.AUDIT.*,$JS.API.CONSUMER.DELETE.AUDIT.*,$KV.sparkplug-births.>,$JS.API.STREAM.INFO.KV_sparkplug-births,$JS.API.STREAM.CREATE.KV_sparkplug-births,$JS.API.STREAM.MSG.GET.KV_sparkplug-births,$JS.API.DIRECT.GET.KV_sparkplug-births,$JS.API.DIRECT.GET.KV_sparkplug-births.>,$JS.API.CONSUMER.CREATE.KV_sparkplug-births,$JS.API.CONSUMER.CREATE.KV_sparkplug-births.>,$JS.API.CONSUMER.INFO.KV_sparkplug-births.*,$JS.API.CONSUMER.DELETE.KV_sparkplug-births.*,$JS.FC.KV_sparkplug-births.>' \
  --allow-sub '_INBOX.sparkplug-decode.>'
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
  --allow-pub 'ordered.v1.>,incident.v1.>,dlq.v1.correlator,$JS.API.INFO,$JS.API.CONSUMER.INFO.NORM.*,$JS.API.CONSUMER.MSG.NEXT.NORM.*,$JS.ACK.NORM.*.>,$JS.API.STREAM.INFO.NORM,$JS.API.CONSUMER.CREATE.NORM.>,$JS.API.CONSUMER.DURABLE.CREATE.NORM.*,$JS.API.CONSUMER.DELETE.NORM.*' \
  --allow-sub '_INBOX.correlator.>'
nsc add user --account "$ACCOUNT" --name busway-anomaly \
  --allow-pub 'anomaly.v1.>,alarm.v1.>,dlq.v1.anomaly,$JS.API.INFO,$JS.API.CONSUMER.INFO.ORDERED.anomaly,$JS.API.CONSUMER.MSG.NEXT.ORDERED.anomaly,$JS.ACK.ORDERED.anomaly.>,$JS.API.CONSUMER.INFO.ORDERED.anomaly-jobs,$JS.API.CONSUMER.MSG.NEXT.ORDERED.anomaly-jobs,$JS.ACK.ORDERED.anomaly-jobs.>,$JS.API.CONSUMER.INFO.INCIDENTS.anomaly-incidents,$JS.API.CONSUMER.MSG.NEXT.INCIDENTS.anomaly-incidents,$JS.ACK.INCIDENTS.anomaly-incidents.>' \
  --allow-sub '_INBOX.anomaly.>'
nsc add user --account "$ACCOUNT" --name busway-fanout \
  --allow-pub 'uns.v1.>,events.v1.incident.>,events.v1.alarm.>,dlq.v1.fanout,$JS.API.INFO,$JS.API.CONSUMER.INFO.ORDERED.fanout-samples,$JS.API.CONSUMER.MSG.NEXT.ORDERED.fanout-samples,$JS.ACK.ORDERED.fanout-samples.>,$JS.API.CONSUMER.INFO.INCIDENTS.fanout-incidents,$JS.API.CONSUMER.MSG.NEXT.INCIDENTS.fanout-incidents,$JS.ACK.INCIDENTS.fanout-incidents.>,$JS.API.CONSUMER.INFO.ANOMALIES.fanout-anomalies,$JS.API.CONSUMER.MSG.NEXT.ANOMALIES.fanout-anomalies,$JS.ACK.ANOMALIES.fanout-anomalies.>,$JS.API.CONSUMER.INFO.ALARMS.fanout-alarms,$JS.API.CONSUMER.MSG.NEXT.ALARMS.fanout-alarms,$JS.ACK.ALARMS.fanout-alarms.>' \
  --allow-sub '_INBOX.fanout.>'
nsc add user --account "$ACCOUNT" --name busway-ingest-dcgm \
  --allow-pub 'raw.v1.samples.dcgm.>,audit.v1.dcgm.>,dlq.v1.ingest-dcgm,$JS.API.INFO' \
  --allow-sub '_INBOX.ingest-dcgm.>'
nsc add user --account "$ACCOUNT" --name busway-ingest-redfish \
  --allow-pub 'raw.v1.samples.redfish.>,audit.v1.redfish.>,dlq.v1.ingest-redfish,$JS.API.INFO' \
  --allow-sub '_INBOX.ingest-redfish.>'
nsc add user --account "$ACCOUNT" --name busway-ingest-scheduler \
  --allow-pub 'raw.v1.events.>,dlq.v1.ingest-scheduler,$JS.API.INFO,$KV.scheduler-state.>,$JS.API.STREAM.INFO.KV_scheduler-state,$JS.API.STREAM.CREATE.KV_scheduler-state,$JS.API.STREAM.MSG.GET.KV_scheduler-state,$JS.API.DIRECT.GET.KV_scheduler-state,$JS.API.DIRECT.GET.KV_scheduler-state.>,$JS.API.CONSUMER.CREATE.KV_scheduler-state,$JS.API.CONSUMER.CREATE.KV_scheduler-state.>,$JS.API.CONSUMER.INFO.KV_scheduler-state.*,$JS.API.CONSUMER.DELETE.KV_scheduler-state.*,$JS.FC.KV_scheduler-state.>' \
  --allow-sub '_INBOX.ingest-scheduler.>'
nsc add user --account "$ACCOUNT" --name busway-ingest-openadr \
  --allow-pub 'raw.v1.events.openadr,dlq.v1.ingest-openadr,$JS.API.INFO,$JS.API.STREAM.INFO.NORM,$JS.API.CONSUMER.CREATE.NORM,$JS.API.CONSUMER.CREATE.NORM.>,$JS.API.CONSUMER.INFO.NORM.*,$JS.API.CONSUMER.MSG.NEXT.NORM.*,$JS.API.DIRECT.GET.NORM,$JS.API.DIRECT.GET.NORM.>,$KV.openadr-ven.>,$JS.API.STREAM.INFO.KV_openadr-ven,$JS.API.STREAM.CREATE.KV_openadr-ven,$JS.API.STREAM.MSG.GET.KV_openadr-ven,$JS.API.DIRECT.GET.KV_openadr-ven,$JS.API.DIRECT.GET.KV_openadr-ven.>,$JS.API.CONSUMER.CREATE.KV_openadr-ven,$JS.API.CONSUMER.CREATE.KV_openadr-ven.>,$JS.API.CONSUMER.INFO.KV_openadr-ven.*,$JS.API.CONSUMER.DELETE.KV_openadr-ven.*,$JS.FC.KV_openadr-ven.>' \
  --allow-sub '_INBOX.ingest-openadr.>'
nsc add user --account "$ACCOUNT" --name busway-history \
  --allow-pub 'rollup.v1.>,dlq.v1.history,$JS.API.INFO,$JS.API.STREAM.INFO.ORDERED,$JS.API.CONSUMER.CREATE.ORDERED,$JS.API.CONSUMER.CREATE.ORDERED.>,$JS.API.CONSUMER.INFO.ORDERED.*,$JS.API.CONSUMER.MSG.NEXT.ORDERED.*,$JS.API.DIRECT.GET.ORDERED,$JS.API.DIRECT.GET.ORDERED.>,$JS.API.STREAM.INFO.ROLLUP_1M,$JS.API.CONSUMER.CREATE.ROLLUP_1M,$JS.API.CONSUMER.CREATE.ROLLUP_1M.>,$JS.API.CONSUMER.INFO.ROLLUP_1M.*,$JS.API.CONSUMER.MSG.NEXT.ROLLUP_1M.*,$JS.API.DIRECT.GET.ROLLUP_1M,$JS.API.DIRECT.GET.ROLLUP_1M.>,$KV.busway-history.>,$JS.API.STREAM.INFO.KV_busway-history,$JS.API.STREAM.CREATE.KV_busway-history,$JS.API.STREAM.MSG.GET.KV_busway-history,$JS.API.DIRECT.GET.KV_busway-history,$JS.API.DIRECT.GET.KV_busway-history.>,$JS.API.CONSUMER.CREATE.KV_busway-history,$JS.API.CONSUMER.CREATE.KV_busway-history.>,$JS.API.CONSUMER.INFO.KV_busway-history.*,$JS.API.CONSUMER.DELETE.KV_busway-history.*,$JS.FC.KV_busway-history.>' \
  --allow-sub '_INBOX.history.>'
nsc add user --account "$ACCOUNT" --name busway-api \
  --allow-pub 'control.v1.command.>,dlq.v1.api,$JS.API.INFO,$JS.API.STREAM.INFO.UNS,$JS.API.CONSUMER.CREATE.UNS,$JS.API.CONSUMER.CREATE.UNS.>,$JS.API.CONSUMER.INFO.UNS.*,$JS.API.CONSUMER.MSG.NEXT.UNS.*,$JS.API.DIRECT.GET.UNS,$JS.API.DIRECT.GET.UNS.>,$JS.API.STREAM.INFO.ROLLUP_1M,$JS.API.CONSUMER.CREATE.ROLLUP_1M,$JS.API.CONSUMER.CREATE.ROLLUP_1M.>,$JS.API.CONSUMER.INFO.ROLLUP_1M.*,$JS.API.CONSUMER.MSG.NEXT.ROLLUP_1M.*,$JS.API.DIRECT.GET.ROLLUP_1M,$JS.API.DIRECT.GET.ROLLUP_1M.>,$JS.API.STREAM.INFO.ROLLUP_1H,$JS.API.CONSUMER.CREATE.ROLLUP_1H,$JS.API.CONSUMER.CREATE.ROLLUP_1H.>,$JS.API.CONSUMER.INFO.ROLLUP_1H.*,$JS.API.CONSUMER.MSG.NEXT.ROLLUP_1H.*,$JS.API.DIRECT.GET.ROLLUP_1H,$JS.API.DIRECT.GET.ROLLUP_1H.>,$JS.API.STREAM.INFO.KV_busway-commands,$JS.API.CONSUMER.CREATE.KV_busway-commands,$JS.API.CONSUMER.CREATE.KV_busway-commands.>,$JS.API.CONSUMER.INFO.KV_busway-commands.*,$JS.API.CONSUMER.MSG.NEXT.KV_busway-commands.*,$JS.API.DIRECT.GET.KV_busway-commands,$JS.API.DIRECT.GET.KV_busway-commands.>' \
  --allow-sub '_INBOX.api.>,uns.v1.>,control.v1.result.>'
nsc add user --account "$ACCOUNT" --name busway-command \
  --allow-pub 'control.v1.result.>,dlq.v1.command,$JS.API.INFO,$JS.API.CONSUMER.INFO.CONTROL.command,$JS.API.CONSUMER.MSG.NEXT.CONTROL.command,$JS.ACK.CONTROL.command.>,$JS.API.STREAM.INFO.KV_sparkplug-births,$JS.API.CONSUMER.CREATE.KV_sparkplug-births,$JS.API.CONSUMER.CREATE.KV_sparkplug-births.>,$JS.API.CONSUMER.INFO.KV_sparkplug-births.*,$JS.API.CONSUMER.MSG.NEXT.KV_sparkplug-births.*,$JS.API.DIRECT.GET.KV_sparkplug-births,$JS.API.DIRECT.GET.KV_sparkplug-births.>,$KV.busway-commands.>,$JS.API.STREAM.INFO.KV_busway-commands,$JS.API.STREAM.CREATE.KV_busway-commands,$JS.API.STREAM.MSG.GET.KV_busway-commands,$JS.API.DIRECT.GET.KV_busway-commands,$JS.API.DIRECT.GET.KV_busway-commands.>,$JS.API.CONSUMER.CREATE.KV_busway-commands,$JS.API.CONSUMER.CREATE.KV_busway-commands.>,$JS.API.CONSUMER.INFO.KV_busway-commands.*,$JS.API.CONSUMER.DELETE.KV_busway-commands.*,$JS.FC.KV_busway-commands.>' \
  --allow-sub '_INBOX.command.>,uns.v1.>,norm.v1.samples.>'
nsc add user --account "$ACCOUNT" --name busway-egress-mqtt \
  --allow-pub 'dlq.v1.egress-mqtt,$JS.API.INFO,$JS.API.CONSUMER.INFO.UNS.*,$JS.API.CONSUMER.MSG.NEXT.UNS.*,$JS.ACK.UNS.*.>,$JS.API.CONSUMER.INFO.ALARMS.*,$JS.API.CONSUMER.MSG.NEXT.ALARMS.*,$JS.ACK.ALARMS.*.>,$JS.API.CONSUMER.INFO.INCIDENTS.*,$JS.API.CONSUMER.MSG.NEXT.INCIDENTS.*,$JS.ACK.INCIDENTS.*.>,$JS.API.CONSUMER.INFO.ANOMALIES.*,$JS.API.CONSUMER.MSG.NEXT.ANOMALIES.*,$JS.ACK.ANOMALIES.*.>,$JS.API.CONSUMER.INFO.CONTROL.*,$JS.API.CONSUMER.MSG.NEXT.CONTROL.*,$JS.ACK.CONTROL.*.>' \
  --allow-sub '_INBOX.egress-mqtt.>'
nsc add user --account "$ACCOUNT" --name busway-egress-webhook \
  --allow-pub 'dlq.v1.egress-webhook,$JS.API.INFO,$JS.API.CONSUMER.INFO.UNS.*,$JS.API.CONSUMER.MSG.NEXT.UNS.*,$JS.ACK.UNS.*.>,$JS.API.CONSUMER.INFO.ALARMS.*,$JS.API.CONSUMER.MSG.NEXT.ALARMS.*,$JS.ACK.ALARMS.*.>,$JS.API.CONSUMER.INFO.INCIDENTS.*,$JS.API.CONSUMER.MSG.NEXT.INCIDENTS.*,$JS.ACK.INCIDENTS.*.>,$JS.API.CONSUMER.INFO.ANOMALIES.*,$JS.API.CONSUMER.MSG.NEXT.ANOMALIES.*,$JS.ACK.ANOMALIES.*.>,$JS.API.CONSUMER.INFO.CONTROL.*,$JS.API.CONSUMER.MSG.NEXT.CONTROL.*,$JS.ACK.CONTROL.*.>' \
  --allow-sub '_INBOX.egress-webhook.>'
nsc add user --account "$ACCOUNT" --name busway-egress-otlp \
  --allow-pub 'dlq.v1.egress-otlp,$JS.API.INFO,$JS.API.CONSUMER.INFO.UNS.*,$JS.API.CONSUMER.MSG.NEXT.UNS.*,$JS.ACK.UNS.*.>,$JS.API.CONSUMER.INFO.ALARMS.*,$JS.API.CONSUMER.MSG.NEXT.ALARMS.*,$JS.ACK.ALARMS.*.>,$JS.API.CONSUMER.INFO.INCIDENTS.*,$JS.API.CONSUMER.MSG.NEXT.INCIDENTS.*,$JS.ACK.INCIDENTS.*.>,$JS.API.CONSUMER.INFO.ANOMALIES.*,$JS.API.CONSUMER.MSG.NEXT.ANOMALIES.*,$JS.ACK.ANOMALIES.*.>,$JS.API.CONSUMER.INFO.CONTROL.*,$JS.API.CONSUMER.MSG.NEXT.CONTROL.*,$JS.ACK.CONTROL.*.>' \
  --allow-sub '_INBOX.egress-otlp.>'
nsc add user --account "$ACCOUNT" --name busway-simulator \
  --allow-pub 'raw.v1.events.scheduler,dlq.v1.simulator,$JS.API.INFO' \
  --allow-sub '_INBOX.simulator.>'
nsc add user --account "$ACCOUNT" --name busway-provisioner \
  --allow-pub '$JS.API.INFO,$JS.API.STREAM.INFO.*,$JS.API.STREAM.CREATE.*,$JS.API.STREAM.UPDATE.*,$JS.API.CONSUMER.INFO.*.*,$JS.API.CONSUMER.CREATE.*.>,$JS.API.CONSUMER.DURABLE.CREATE.*.*' \
  --allow-sub '_INBOX.provisioner.>'
nsc add user --account "$ACCOUNT" --name busway-observer \
  --allow-pub '$JS.API.INFO,$JS.API.STREAM.LIST,$JS.API.STREAM.NAMES,$JS.API.STREAM.INFO.*,$JS.API.CONSUMER.LIST.*,$JS.API.CONSUMER.INFO.*.*,$JS.API.CONSUMER.CREATE.DLQ,$JS.API.CONSUMER.CREATE.DLQ.>,$JS.API.CONSUMER.MSG.NEXT.DLQ.*,$JS.API.DIRECT.GET.DLQ,$JS.API.DIRECT.GET.DLQ.>' \
  --allow-sub '_INBOX.observer.>,raw.v1.>,norm.v1.>,ordered.v1.>,incident.v1.>,anomaly.v1.>,dlq.v1.>,audit.v1.>,alarm.v1.>,uns.v1.>,rollup.v1.1m.>,rollup.v1.1h.>,control.v1.>'
nsc add user --account "$ACCOUNT" --name busway-operator \
  --allow-pub '$JS.API.INFO,$JS.API.STREAM.LIST,$JS.API.STREAM.NAMES,$JS.API.STREAM.INFO.*,$JS.API.CONSUMER.LIST.*,$JS.API.CONSUMER.INFO.*.*,$JS.API.CONSUMER.CREATE.DLQ,$JS.API.CONSUMER.CREATE.DLQ.>,$JS.API.CONSUMER.MSG.NEXT.DLQ.*,$JS.API.DIRECT.GET.DLQ,$JS.API.DIRECT.GET.DLQ.>,raw.v1.>,norm.v1.>,ordered.v1.>,incident.v1.>,anomaly.v1.>,audit.v1.>,alarm.v1.>,uns.v1.>,control.v1.>,$JS.API.STREAM.MSG.DELETE.DLQ' \
  --allow-sub '_INBOX.operator.>,_INBOX.observer.>,raw.v1.>,norm.v1.>,ordered.v1.>,incident.v1.>,anomaly.v1.>,dlq.v1.>,audit.v1.>,alarm.v1.>,uns.v1.>,rollup.v1.1m.>,rollup.v1.1h.>,control.v1.>'
nsc generate creds --account "$ACCOUNT" --name busway-ingest-sparkplug > creds/busway-ingest-sparkplug.creds
nsc generate creds --account "$ACCOUNT" --name busway-sparkplug-decode > creds/busway-sparkplug-decode.creds
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
nsc generate creds --account "$ACCOUNT" --name busway-ingest-dcgm > creds/busway-ingest-dcgm.creds
nsc generate creds --account "$ACCOUNT" --name busway-ingest-redfish > creds/busway-ingest-redfish.creds
nsc generate creds --account "$ACCOUNT" --name busway-ingest-scheduler > creds/busway-ingest-scheduler.creds
nsc generate creds --account "$ACCOUNT" --name busway-ingest-openadr > creds/busway-ingest-openadr.creds
nsc generate creds --account "$ACCOUNT" --name busway-history > creds/busway-history.creds
nsc generate creds --account "$ACCOUNT" --name busway-api > creds/busway-api.creds
nsc generate creds --account "$ACCOUNT" --name busway-command > creds/busway-command.creds
nsc generate creds --account "$ACCOUNT" --name busway-egress-mqtt > creds/busway-egress-mqtt.creds
nsc generate creds --account "$ACCOUNT" --name busway-egress-webhook > creds/busway-egress-webhook.creds
nsc generate creds --account "$ACCOUNT" --name busway-egress-otlp > creds/busway-egress-otlp.creds
nsc generate creds --account "$ACCOUNT" --name busway-simulator > creds/busway-simulator.creds
nsc generate creds --account "$ACCOUNT" --name busway-provisioner > creds/busway-provisioner.creds
nsc generate creds --account "$ACCOUNT" --name busway-observer > creds/busway-observer.creds
nsc generate creds --account "$ACCOUNT" --name busway-operator > creds/busway-operator.creds
