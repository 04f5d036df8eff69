using BenchmarkDotNet.Running;
using Headscale.Bench.Derp;
using Headscale.Bench.Map;

// The DERP relay benchmark (B5) and the network map load generator (B1–B3) drive real servers and are run directly;
// everything else goes through BenchmarkDotNet.
return args switch
{
    [DerpRelayBenchmark.Command, .. var rest] => await DerpRelayBenchmark.RunAsync(rest),
    [MapBenchmark.Command, .. var rest] => await MapBenchmark.RunAsync(rest),
    [IdleMemory.ServerCommand] => await IdleMemory.ServeAsync(),
    _ => RunBenchmarkDotNet(args),
};

static int RunBenchmarkDotNet(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(DerpRelayBenchmark).Assembly).Run(args);
    return 0;
}
