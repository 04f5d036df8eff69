using Google.Protobuf;
using Grpc.Core;
using Headscale.Management.V1;

namespace Headscale.Api.Tests.Management;

/// <summary>Calls any method of the contract by name, so one test can walk all of them.</summary>
internal static class GrpcDynamic
{
    public static async Task<IMessage> CallAsync(CallInvoker invoker, string rpc, IMessage request, CancellationToken cancellationToken)
    {
        var descriptor = HeadscaleService.Descriptor.FindMethodByName(rpc)
            ?? throw new ArgumentException($"no method {rpc} in the contract", nameof(rpc));
        var method = new Method<IMessage, IMessage>(
            MethodType.Unary,
            HeadscaleService.Descriptor.FullName,
            rpc,
            Marshallers.Create<IMessage>(m => m.ToByteArray(), bytes => descriptor.InputType.Parser.ParseFrom(bytes)),
            Marshallers.Create<IMessage>(m => m.ToByteArray(), bytes => descriptor.OutputType.Parser.ParseFrom(bytes)));
        return await invoker.AsyncUnaryCall(method, null, new CallOptions(cancellationToken: cancellationToken), request);
    }
}
