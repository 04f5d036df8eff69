using System.Diagnostics.Metrics;
using Headscale.Derp.Server;

namespace Headscale.Derp.Tests;

public sealed class MetricsTests
{
    [Fact]
    public async Task The_connection_gauge_includes_clients_that_connected_before_the_exporter_listened()
    {
        await using var host = await DerpTestHost.StartAsync();
        await using var a = await host.ConnectAsync();
        await using var b = await host.ConnectAsync();

        // Other tests of this assembly run in parallel with their own servers, so only a lower bound is certain here.
        long? observed = null;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == DerpMetrics.MeterName && instrument.Name == "connections")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => observed = value);
        listener.Start();
        listener.RecordObservableInstruments();

        Assert.NotNull(observed);
        Assert.True(observed >= 2, $"the gauge read {observed} with two clients connected");
        Assert.True(DerpMetrics.OpenConnections >= 2);
    }
}
