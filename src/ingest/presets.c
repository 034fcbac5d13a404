/* The built-in presets: field maps from common flow-log producers to the canonical schema.
 * Rule syntax (docs/convert.md): "column=expr" where expr is alternatives separated by '|',
 * each a field, "a + b" (sum, a missing side counts 0), "a - b" (difference; for duration_ms
 * the difference of two timestamps), optionally followed by ":s", ":ms", ":us" or ":ns"
 * (unit of a duration field); "filter:field=v1,v2" keeps records whose field is one of the
 * values (records without the field pass), "filter:field!=v1" drops those values. */
#include <string.h>

#include "dm_ingest.h"
#include "banned.h"

static const char *const p_datamate[] = {
    "ts=_@timestamp|_timestamp|@timestamp",
    "src_ip=_SourceIP",
    "dst_ip=_DestinationIP",
    "src_port=_SourcePort",
    "dst_port=_DestinationPort",
    "proto=_Protocol|_Proto",
    "bytes_sent=_BytesSent",
    "bytes_recv=_BytesReceived",
    "packets=_Packets|_PacketsSent + _PacketsReceived",
    "action=_Action",
    "duration_ms=_DurationMs|_Duration:s",
    NULL,
};

static const char *const p_ecs[] = {
    "ts=event.start|@timestamp",
    "src_ip=source.ip|client.ip",
    "dst_ip=destination.ip|server.ip",
    "src_port=source.port|client.port",
    "dst_port=destination.port|server.port",
    "proto=network.iana_number|network.transport",
    "bytes_sent=source.bytes|client.bytes",
    "bytes_recv=destination.bytes|server.bytes",
    "packets=network.packets|source.packets + destination.packets",
    "action=event.action|event.outcome",
    "duration_ms=event.duration:ns|event.end - event.start",
    NULL,
};

static const char *const p_zeek[] = {
    "ts=ts",
    "src_ip=id.orig_h",
    "dst_ip=id.resp_h",
    "src_port=id.orig_p",
    "dst_port=id.resp_p",
    "proto=proto",
    "bytes_sent=orig_bytes",
    "bytes_recv=resp_bytes",
    "packets=orig_pkts + resp_pkts",
    "action=conn_state",
    "duration_ms=duration:s",
    NULL,
};

static const char *const p_suricata[] = {
    "ts=flow.start|netflow.start|timestamp",
    "src_ip=src_ip",
    "dst_ip=dest_ip",
    "src_port=src_port",
    "dst_port=dest_port",
    "proto=proto",
    "bytes_sent=flow.bytes_toserver|netflow.bytes",
    "bytes_recv=flow.bytes_toclient",
    "packets=flow.pkts_toserver + flow.pkts_toclient|netflow.pkts",
    "action=flow.action|flow.state",
    "duration_ms=flow.end - flow.start|netflow.end - netflow.start",
    "filter:event_type=flow,netflow",
    NULL,
};

static const char *const p_nfdump[] = {
    "ts=first|ts|t_first",
    "src_ip=src4_addr|src6_addr|sa",
    "dst_ip=dst4_addr|dst6_addr|da",
    "src_port=src_port|sp",
    "dst_port=dst_port|dp",
    "proto=proto|pr",
    "bytes_sent=in_bytes|ibyt",
    "bytes_recv=out_bytes|obyt",
    "packets=in_packets + out_packets|ipkt + opkt",
    "action=fw_event",
    "duration_ms=td:s|last - first",
    "filter:type=FLOW",
    NULL,
};

static const char *const p_pmacct[] = {
    "ts=timestamp_start|stamp_inserted|timestamp_arrival",
    "src_ip=ip_src",
    "dst_ip=ip_dst",
    "src_port=port_src",
    "dst_port=port_dst",
    "proto=ip_proto",
    "bytes_sent=bytes",
    "packets=packets",
    "duration_ms=timestamp_end - timestamp_start",
    NULL,
};

static const char *const p_argus[] = {
    "ts=StartTime|stime",
    "src_ip=SrcAddr|saddr",
    "dst_ip=DstAddr|daddr",
    "src_port=Sport|sport",
    "dst_port=Dport|dport",
    "proto=Proto|proto",
    "bytes_sent=SrcBytes|sbytes",
    "bytes_recv=DstBytes|dbytes|TotBytes - SrcBytes",
    "packets=TotPkts|pkts",
    "action=State|state",
    "duration_ms=Dur:s|dur:s",
    "filter:Proto!=man",
    NULL,
};

static const char *const p_vpcflow[] = {
    "ts=start",
    "src_ip=srcaddr",
    "dst_ip=dstaddr",
    "src_port=srcport",
    "dst_port=dstport",
    "proto=protocol",
    "bytes_sent=bytes",
    "packets=packets",
    "action=action",
    "duration_ms=end - start",
    "filter:log-status!=NODATA,SKIPDATA",
    NULL,
};

static const struct dm_preset presets[] = {
    {"datamate", "the earlier datamate tool's SIEM export (_@timestamp, _SourceIP, ...)",
     p_datamate},
    {"ecs", "Elastic Common Schema (source.ip, destination.bytes, nested or dotted)", p_ecs},
    {"zeek", "Zeek conn.log, JSON or TSV (conn_state becomes the action)", p_zeek},
    {"suricata", "Suricata eve.json flow / netflow events (other events are rejected)",
     p_suricata},
    {"nfdump", "nfdump -o json / -o csv", p_nfdump},
    {"pmacct", "pmacct / nfacctd JSON", p_pmacct},
    {"argus", "Argus CSV and CTU-13 binetflow", p_argus},
    {"vpcflow", "AWS VPC flow logs v2-v5 (NODATA / SKIPDATA rows are rejected)", p_vpcflow},
};

const struct dm_preset *dm_presets(size_t *n)
{
    *n = sizeof(presets) / sizeof(presets[0]);
    return presets;
}

const struct dm_preset *dm_preset_find(const char *name)
{
    for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
        if (strcmp(presets[i].name, name) == 0)
            return &presets[i];
    return NULL;
}
