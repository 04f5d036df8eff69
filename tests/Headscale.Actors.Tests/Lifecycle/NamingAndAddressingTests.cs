using System.Net;
using Headscale.Actors.Addressing;
using Headscale.Actors.Nodes;

namespace Headscale.Actors.Tests.Lifecycle;

public sealed class NamingAndAddressingTests
{
    [Theory]
    [InlineData("Joe's Mac mini", "joes-mac-mini")]
    [InlineData("laptop.local", "laptop")]
    [InlineData("My_Server  (2)", "my-server-2")]
    [InlineData("--edge--", "edge")]
    [InlineData("Überlaptop", "berlaptop")]
    [InlineData("日本語", "node")]
    [InlineData("", "node")]
    [InlineData("   ", "node")]
    public void Host_names_are_sanitised_to_dns_labels(string hostname, string expected) =>
        Assert.Equal(expected, GivenNames.Sanitise(hostname));

    [Fact]
    public void Long_host_names_are_cut_to_63_characters_without_a_trailing_dash()
    {
        var name = GivenNames.Sanitise(new string('a', 62) + "-b" + new string('c', 10));
        Assert.Equal(new string('a', 62), name);
    }

    [Fact]
    public void Collisions_get_numbered_suffixes_that_still_fit_a_label()
    {
        var taken = new HashSet<string> { "box", "box-1" };
        Assert.Equal("box-2", GivenNames.Unique("box", taken.Contains));

        var longName = new string('x', 63);
        var unique = GivenNames.Unique(longName, n => n == longName);
        Assert.Equal(new string('x', 61) + "-1", unique);
    }

    [Theory]
    [InlineData("good-name", true)]
    [InlineData("Bad", false)]
    [InlineData("-bad", false)]
    [InlineData("", false)]
    public void Rename_accepts_only_canonical_labels(string name, bool valid) => Assert.Equal(valid, GivenNames.IsValid(name));

    [Fact]
    public void Sequential_allocation_skips_network_address_and_continues_after_the_last()
    {
        var prefix = IPNetwork.Parse("100.64.0.0/10");
        Assert.Equal("100.64.0.1", AddressAllocator.Allocate(prefix, _ => false, "", AllocationStrategy.Sequential, new Random(1)));
        Assert.Equal("100.64.0.8", AddressAllocator.Allocate(prefix, _ => false, "100.64.0.7", AllocationStrategy.Sequential, new Random(1)));
        Assert.Equal("100.64.0.9", AddressAllocator.Allocate(prefix, a => a == "100.64.0.8", "100.64.0.7", AllocationStrategy.Sequential, new Random(1)));
    }

    [Fact]
    public void Reserved_addresses_are_never_handed_out()
    {
        var prefix = IPNetwork.Parse("100.64.0.0/10");
        Assert.Equal("100.100.100.101", AddressAllocator.Allocate(prefix, _ => false, "100.100.100.99", AllocationStrategy.Sequential, new Random(1)));
        Assert.Equal("100.115.94.0", AddressAllocator.Allocate(prefix, _ => false, "100.115.91.255", AllocationStrategy.Sequential, new Random(1)));

        var v6 = IPNetwork.Parse("fd7a:115c:a1e0::/48");
        Assert.Equal("fd7a:115c:a1e0::54", AddressAllocator.Allocate(v6, _ => false, "fd7a:115c:a1e0::52", AllocationStrategy.Sequential, new Random(1)));
        Assert.True(AddressAllocator.IsReserved(IPAddress.Parse("100.115.93.7")));
    }

    [Fact]
    public void A_full_prefix_yields_no_address_and_the_broadcast_address_is_skipped()
    {
        var prefix = IPNetwork.Parse("10.0.0.0/30");
        var used = new HashSet<string>();
        for (var i = 0; i < 2; i++)
        {
            used.Add(AddressAllocator.Allocate(prefix, used.Contains, "", AllocationStrategy.Random, new Random(i))!);
        }

        Assert.Equal(["10.0.0.1", "10.0.0.2"], used.Order());
        Assert.Null(AddressAllocator.Allocate(prefix, used.Contains, "", AllocationStrategy.Random, new Random(3)));
        Assert.Null(AddressAllocator.Allocate(prefix, used.Contains, "10.0.0.2", AllocationStrategy.Sequential, new Random(3)));
    }

    [Fact]
    public void Random_allocation_stays_inside_the_prefix()
    {
        var v4 = IPNetwork.Parse("100.64.0.0/10");
        var v6 = IPNetwork.Parse("fd7a:115c:a1e0::/48");
        var random = new Random(42);
        for (var i = 0; i < 200; i++)
        {
            Assert.True(v4.Contains(IPAddress.Parse(AddressAllocator.Allocate(v4, _ => false, "", AllocationStrategy.Random, random)!)));
            Assert.True(v6.Contains(IPAddress.Parse(AddressAllocator.Allocate(v6, _ => false, "", AllocationStrategy.Random, random)!)));
        }
    }

    [Theory]
    [InlineData("mkey:" + "AB00000000000000000000000000000000000000000000000000000000000001", true)]
    [InlineData("mkey:" + "ab0000000000000000000000000000000000000000000000000000000000001", false)]
    [InlineData("nodekey:" + "ab00000000000000000000000000000000000000000000000000000000000001", false)]
    [InlineData("mkey:" + "zz00000000000000000000000000000000000000000000000000000000000001", false)]
    [InlineData(null, false)]
    public void Machine_keys_parse_only_in_their_exact_text_form(string? text, bool valid)
    {
        Assert.Equal(valid, MachineKey.TryParse(text, out var key));
        if (valid)
        {
            Assert.Equal(text!.ToLowerInvariant(), key.Value);
        }
    }
}
