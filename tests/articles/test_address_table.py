"""The fetcher's own special-purpose address table (articles/addresses.py):
every IANA special-purpose range refused whatever Python's `ipaddress` flags
say, embedded IPv4 addresses judged recursively, the cloud metadata
addresses refused directly and through a redirect (issue 25)."""

import ipaddress

import pytest

from articles.addresses import IPV4_SPECIAL, IPV6_SPECIAL, address_refusal
from articles.fetching import FetchError, fetch_url, refusal_reason

# Written out from the IANA IPv4 and IPv6 Special-Purpose Address Registries
# (and multicast, site-local, IPv4-compatible), independently of the table,
# so a range dropped from the table fails here.
REGISTRY = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.0.0/29",
    "192.0.0.8/32",
    "192.0.0.9/32",
    "192.0.0.10/32",
    "192.0.0.170/32",
    "192.0.0.171/32",
    "192.0.2.0/24",
    "192.31.196.0/24",
    "192.52.193.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "192.175.48.0/24",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "255.255.255.255/32",
    "::1/128",
    "::/128",
    "::/96",
    "::ffff:0:0:0/96",
    "64:ff9b:1::/48",
    "100::/64",
    "100:0:0:1::/64",
    "2001::/23",
    "2001::/32",
    "2001:1::1/128",
    "2001:1::2/128",
    "2001:1::3/128",
    "2001:2::/48",
    "2001:3::/32",
    "2001:4:112::/48",
    "2001:10::/28",
    "2001:20::/28",
    "2001:30::/28",
    "2001:db8::/32",
    "2620:4f:8000::/48",
    "3fff::/20",
    "5f00::/16",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
]


def first_middle_last(cidr: str) -> list[str]:
    network = ipaddress.ip_network(cidr)
    return [
        str(network.network_address),
        str(network.network_address + network.num_addresses // 2),
        str(network.broadcast_address),
    ]


WALK = [(cidr, address) for cidr in REGISTRY for address in first_middle_last(cidr)]


@pytest.mark.parametrize(("cidr", "address"), WALK, ids=[f"{c}:{a}" for c, a in WALK])
def test_every_registry_range_is_refused_first_middle_and_last(cidr, address):
    assert address_refusal(ipaddress.ip_address(address)), f"{address} in {cidr} was allowed"


def test_the_table_holds_every_registry_range():
    table = {str(s.network) for s in (*IPV4_SPECIAL, *IPV6_SPECIAL)}
    covered = {
        cidr
        for cidr in REGISTRY
        if cidr in table
        or any(
            ipaddress.ip_network(cidr).subnet_of(ipaddress.ip_network(t))
            for t in table
            if ipaddress.ip_network(t).version == ipaddress.ip_network(cidr).version
        )
    }
    assert covered == set(REGISTRY)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("169.254.169.254", "link-local"),  # AWS, GCP, Azure, DigitalOcean… metadata
        ("fd00:ec2::254", "private"),  # AWS metadata over IPv6 (unique-local)
        ("192.0.0.192", "reserved"),  # Oracle Cloud metadata: "global" on Python 3.11.7
        ("100.100.100.200", "shared"),  # Alibaba Cloud metadata
        ("168.63.129.16", "cloud-metadata"),  # Azure WireServer, a public address
        ("192.0.0.11", "reserved"),
        ("192.0.0.169", "reserved"),
        ("192.0.0.172", "reserved"),
        ("192.0.0.255", "reserved"),
        ("fec0::1", "private"),
    ],
)
def test_cloud_metadata_and_python_dependent_addresses_are_refused(address, kind):
    assert refusal_reason(ipaddress.ip_address(address)).startswith(f"{kind} address")


@pytest.mark.parametrize(
    ("address", "refused_because"),
    [
        ("::ffff:10.0.0.1", "IPv4-mapped form of 10.0.0.1, a private"),
        ("::ffff:192.0.0.192", "IPv4-mapped form of 192.0.0.192, a reserved"),
        ("::10.0.0.1", "deprecated form of 10.0.0.1, a private"),  # IPv4-compatible
        ("::8.8.8.8", "deprecated address (IPv4-compatible"),
        ("64:ff9b::a9fe:a9fe", "NAT64 form of 169.254.169.254, a link-local"),
        ("64:ff9b::c000:c0", "NAT64 form of 192.0.0.192, a reserved"),
        ("64:ff9b:1::a00:1", "NAT64 local-use form of 10.0.0.1"),  # /96 layout
        ("64:ff9b:1:a9fe:a9:fe00::", "NAT64 local-use form of"),  # /48 layout
        ("64:ff9b:1::808:808", "NAT64 local-use"),  # local translator: always refused
        ("2002:a9fe:a9fe::1", "6to4 form of 169.254.169.254, a link-local"),
        ("2002:c000:c0::", "6to4 form of 192.0.0.192, a reserved"),
        # Teredo: server 65.54.227.120, client 127.0.0.1 obfuscated (bits inverted)
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo form of 127.0.0.1, a loopback"),
        ("2001:0:a00:1::", "Teredo form of 10.0.0.1, a private"),  # the server
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", "Teredo address (TEREDO"),  # client 8.8.8.8
        ("::ffff:0:a9fe:a9fe", "deprecated form of 169.254.169.254"),  # IPv4-translated (SIIT)
        ("::ffff:0:808:808", "deprecated address (IPv4-translated"),
    ],
)
def test_embedded_ipv4_addresses_are_judged_recursively(address, refused_because):
    assert address_refusal(ipaddress.ip_address(address)).startswith(refused_because)


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.215.14",
        "192.0.1.1",  # just past 192.0.0.0/24
        "192.0.3.0",  # just past TEST-NET-1
        "100.128.0.0",  # just past shared address space
        "2606:4700:4700::1111",
        "2a00:1450:4009:81f::200e",
        "::ffff:8.8.8.8",  # IPv4-mapped public
        "64:ff9b::808:808",  # well-known NAT64 prefix, public IPv4
        "2002:808:808::1",  # 6to4 of a public IPv4
    ],
)
def test_public_addresses_are_fetched_from(address):
    assert address_refusal(ipaddress.ip_address(address)) == ""


def test_loopback_is_allowed_only_by_the_setting(settings):
    settings.FETCH_ALLOW_LOOPBACK = False
    assert refusal_reason(ipaddress.ip_address("127.0.0.1")).startswith("loopback")
    assert refusal_reason(ipaddress.ip_address("::ffff:127.0.0.1")).startswith("IPv4-mapped")
    settings.FETCH_ALLOW_LOOPBACK = True
    assert refusal_reason(ipaddress.ip_address("127.0.0.1")) == ""
    # The setting admits loopback, never a private range behind it.
    assert refusal_reason(ipaddress.ip_address("192.0.0.192")) != ""


@pytest.mark.parametrize("address", ["192.0.0.192", "168.63.129.16", "100.100.100.200"])
def test_metadata_addresses_are_refused_directly_and_through_a_redirect(address, httpserver):
    with pytest.raises(FetchError, match=rf"refused to fetch from {address}"):
        fetch_url(f"http://{address}/opc/v2/instance/")
    httpserver.expect_request("/go").respond_with_data(
        "", status=302, headers={"Location": f"http://{address}/opc/v2/instance/"}
    )
    with pytest.raises(FetchError, match=rf"refused to fetch from {address}"):
        fetch_url(httpserver.url_for("/go"))


def test_a_name_resolving_to_a_metadata_address_is_refused(resolve_as, httpserver):
    resolve_as("metadata.attacker.example", "192.0.0.192")
    httpserver.expect_request("/go").respond_with_data(
        "", status=302, headers={"Location": "http://metadata.attacker.example/"}
    )
    with pytest.raises(FetchError, match=r"attacker\.example \(192\.0\.0\.192\): reserved"):
        fetch_url(httpserver.url_for("/go"))
