using BenchmarkDotNet.Running;
using Headscale.Bench.Derp;

// The DERP relay benchmark (B5) measures a network flow against a baseline and is run directly; everything else goes
// through BenchmarkDotNet.
return args switch
{
    [DerpRelayBenchmark.Command, .. var rest] => await DerpRelayBenchmark.RunAsync(rest),
    [IdleMemory.ServerCommand] => await IdleMemory.ServeAsync(),
    _ => RunBenchmarkDotNet(args),
};

static int RunBenchmarkDotNet(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    return 0;
}
