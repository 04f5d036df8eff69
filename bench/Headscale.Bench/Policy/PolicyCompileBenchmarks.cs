using BenchmarkDotNet.Attributes;
using Headscale.Policy;
using Headscale.Policy.Snapshot;

namespace Headscale.Bench.Policy;

/// <summary>
/// Compiles a 10,000-node, 1,000-rule tailnet, and recompiles after one node changes. Compilation indexes
/// rules by node; per-node outputs are computed on demand, so "recompile after one change" is the index
/// rebuild plus the changed node's filter, SSH policy and peers.
/// Each operation takes from microseconds to seconds, so a short monitoring run is enough, e.g.
/// <c>dotnet run -c Release -- --filter '*PolicyCompileBenchmarks*' --inProcess --strategy Monitoring
/// --launchCount 1 --warmupCount 1 --iterationCount 5</c> (in-process: on a loaded machine the generated
/// project can exceed BenchmarkDotNet's two-minute build timeout).
/// </summary>
[MemoryDiagnoser]
public class PolicyCompileBenchmarks
{
    private const int Nodes = 10_000;
    private const int Rules = 1_000;
    private const int Users = 500;
    private const int Tags = 100;
    private const int Groups = 50;

    private ParsedPolicy _policy = null!;
    private TailnetSnapshot _snapshot = null!;
    private TailnetSnapshot _changed = null!;
    private CompiledPolicy _compiled = null!;
    private string _policyText = null!;
    private ulong _changedId;

    [GlobalSetup]
    public void Setup()
    {
        _policyText = SyntheticTailnet.Policy(Rules, Users, Tags, Groups);
        var load = PolicyLoader.Load(_policyText, ["example.com"]);
        _policy = load.Policy ?? throw new InvalidOperationException(load.ErrorMessage);
        _snapshot = SyntheticTailnet.Build(Nodes, Users, Tags);
        var index = Nodes / 2 + 1; // an untagged node
        var node = _snapshot.Nodes[index];
        _changedId = node.Id;
        _changed = _snapshot with { Nodes = _snapshot.Nodes.SetItem(index, node with { UserEmail = null, Tags = ["tag:t7"] }) };
        _compiled = CompiledPolicy.Compile(_policy, _snapshot);
    }

    [Benchmark(Description = "parse + validate 1,000-rule policy")]
    public bool Parse() => PolicyLoader.Load(_policyText, ["example.com"]).IsValid;

    [Benchmark(Description = "compile + every node's filter and peers (10,000 nodes)")]
    public int CompileAllNodes()
    {
        var compiled = CompiledPolicy.Compile(_policy, _snapshot);
        var total = 0;
        foreach (var node in _snapshot.Nodes)
            total += compiled.PacketFilter(node.Id).Length + compiled.Peers(node.Id).Length;
        return total;
    }

    [Benchmark(Description = "recompile after one node changes: that node's filter, SSH, peers")]
    public int RecompileOneNode()
    {
        var compiled = CompiledPolicy.Compile(_policy, _changed);
        return compiled.PacketFilter(_changedId).Length + compiled.SshRules(_changedId).Length + compiled.Peers(_changedId).Length;
    }

    [Benchmark(Description = "one node's filter on an existing compilation")]
    public int OneNodeFilter() => _compiled.PacketFilter(_changedId).Length;
}
