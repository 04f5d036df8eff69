using System.Text.Json;
using Xunit;

namespace Headscale.Api.Tests.Hosting;

/// <summary>Runtime settings the server ships with in its runtimeconfig.json (copied beside the tests with headscale.dll).</summary>
public sealed class RuntimeConfigTests
{
    private static JsonElement ConfigProperties()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "headscale.runtimeconfig.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").Clone();
    }

    [Fact]
    public void Thread_pool_workers_do_not_spin_before_blocking()
    {
        var properties = ConfigProperties();

        Assert.True(properties.TryGetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", out var limit),
            "headscale.runtimeconfig.json sets no thread-pool spin limit");
        Assert.Equal(0, limit.ValueKind == JsonValueKind.Number ? limit.GetInt32() : int.Parse(limit.GetString()!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void The_server_runs_with_server_gc()
    {
        Assert.True(ConfigProperties().GetProperty("System.GC.Server").GetBoolean());
    }

    [Fact]
    public void The_collector_conserves_memory_at_its_highest_level()
    {
        var level = ConfigProperties().GetProperty("System.GC.ConserveMemory");
        Assert.Equal(9, level.ValueKind == JsonValueKind.Number ? level.GetInt32() : int.Parse(level.GetString()!, System.Globalization.CultureInfo.InvariantCulture));
    }
}
