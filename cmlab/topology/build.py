"""A topology becomes a lab model: `Topology.build_model(password)` (or `build_model(topology, password)`).

The initial state is **not** checked against ConfigMgr's rules: it may break them on purpose (the
default lab has its SCP at a child primary, left over from an expansion).
"""

from __future__ import annotations

from cmlab.model import Domain, LabModel, ProxySettings, Site
from cmlab.model.certificates import CertificateStores, stand_in_pem
from cmlab.model.netsettings import INTERNET_CONNECTIONS_KEY, WINHTTP_VALUE, encode_winhttp
from cmlab.model.sct import install_tool

from .spec import TopologySpec

# Services every simulated Windows server has (more come with roles).
BASE_SERVICES = (
    ("WinRM", "Windows Remote Management (WS-Management)"),
    ("MpsSvc", "Windows Defender Firewall"),
    ("LanmanServer", "Server"),
)


def build_model(topology: TopologySpec, password: str) -> LabModel:
    """The lab's initial state for `topology`; every domain account gets `password`."""
    domain = Domain(topology.domain.netbios, topology.domain.dns)
    domain.add_user(topology.domain.admin_user, password, ("Domain Admins",))
    for user, groups in topology.domain.users.items():
        domain.add_user(user, password, tuple(groups))
    model = LabModel(domain)
    for spec in topology.hosts:
        host = model.add_host(spec.fqdn, spec.address)
        host.executive_timing, host.time_zone_bias = spec.sms_executive, spec.time_zone_bias
        for name, display in BASE_SERVICES:
            host.add_service(name, display)
        if spec.console:
            model.install_console(host)
        for group, members in spec.local_group_members.items():
            target = host.local_group(group) or host.add_local_group(group)
            for member in members:
                if not target.has_member(member):
                    target.add_member(member)
        for key, values in spec.registry.items():
            registry_key = host.registry.ensure_key(key)
            for name, data in values.items():
                registry_key.set_value(name, data)
        for svc in spec.services:
            host.add_service(svc.name, svc.display_name, svc.status, svc.start_type)
        if spec.restart is not None:
            host.restart_timing = spec.restart
        host.certificates = CertificateStores()
        host.certificates.install_well_known_roots(tuple(spec.missing_roots), tuple(spec.expired_roots))
        for path, (root, expired) in spec.certificate_files.items():
            host.add_file(path, stand_in_pem(root, expired))
        for path, text in spec.certificate_texts.items():
            host.add_file(path, text)
        if spec.winhttp_proxy:
            host.registry.set_value(
                INTERNET_CONNECTIONS_KEY, WINHTTP_VALUE, encode_winhttp(spec.winhttp_proxy, spec.winhttp_bypass, 1), "Binary"
            )
        host.booted()  # the settings above are the ones its processes start with
    for hspec in topology.hierarchies:
        hierarchy = model.add_hierarchy(hspec.name)
        for sspec in hspec.sites:
            model.install_site(
                hierarchy,
                Site(
                    code=sspec.code,
                    name=sspec.name,
                    type=sspec.type,
                    server=sspec.server,
                    provider=sspec.provider,
                    reporting_site_code=sspec.parent,
                    install_dir=sspec.install_dir,
                    version=sspec.version,
                    build_number=sspec.build_number,
                ),
            )
        for user_site, user in hspec.accounts:
            hierarchy.new_account(user_site, user, password)
        hierarchy.set_telemetry_level(hspec.telemetry_level)
        hierarchy.cloud_services = set(hspec.cloud_services)
        hierarchy.refuse_second_scp = hspec.refuse_second_scp
        hierarchy.administrative_users = dict(hspec.administrative_users)
        for ss_spec in hspec.site_systems:
            ss = hierarchy.site_system(ss_spec.site, ss_spec.server) or hierarchy.create_site_system(ss_spec.site, ss_spec.server)
            ss.use_machine_account, ss.account = not ss_spec.account, ss_spec.account
            ss.fdm_operation, ss.public_fqdn = ss_spec.fdm_operation, ss_spec.public_fqdn
            ss.proxy = ProxySettings(**ss_spec.proxy.__dict__)
            for role in ss_spec.roles:
                hierarchy.add_role(ss, role.name, list(role.props))
    # ConfigMgr behaviour: timing, the simulated internet, the tool where the topology puts it,
    # and the roles the topology declares installed at work from the start.
    model.configmgr_timing = topology.configmgr
    internet = dict(topology.internet)
    change = internet.pop("service_configuration_change", False)
    model.internet.configure(internet, replace=True)  # the hierarchies' SCP services listen to it
    top = next((s for h in model.hierarchies for s in h.sites.values() if s.is_top_level), None)
    for spec in topology.hosts:
        if spec.service_connection_tool:
            version = spec.service_connection_tool_version or (top.version if top else "")
            install_tool(model.hosts[spec.fqdn], spec.service_connection_tool, version)
    for hierarchy in model.hierarchies:
        hierarchy.installer.setup_installed(hierarchy)
    if change:  # Microsoft changed its services before the lab started: the SCPs at work are notified
        model.internet.configure({"service_configuration_change": True})
    return model


class Topology(TopologySpec):
    """A validated topology, ready to become a model."""

    def build_model(self, password: str) -> LabModel:
        return build_model(self, password)
