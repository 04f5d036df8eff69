using Grpc.Core;

namespace Headscale.Api.Management;

/// <summary>
/// The one place where management results become gRPC statuses. JSON transcoding then maps the
/// gRPC status to the HTTP status (grpc-gateway's table: InvalidArgument 400, NotFound 404,
/// AlreadyExists 409, FailedPrecondition 400, PermissionDenied 403, Unimplemented 501,
/// Unavailable 503, DeadlineExceeded 504, Unknown 500) and writes {"code","message","details"}.
/// </summary>
public static class ManagementStatusMapping
{
    public static StatusCode ToStatusCode(ManagementErrorCode code) => code switch
    {
        ManagementErrorCode.Unknown => StatusCode.Unknown,
        ManagementErrorCode.InvalidArgument => StatusCode.InvalidArgument,
        ManagementErrorCode.NotFound => StatusCode.NotFound,
        ManagementErrorCode.AlreadyExists => StatusCode.AlreadyExists,
        ManagementErrorCode.FailedPrecondition => StatusCode.FailedPrecondition,
        ManagementErrorCode.PermissionDenied => StatusCode.PermissionDenied,
        ManagementErrorCode.Unimplemented => StatusCode.Unimplemented,
        ManagementErrorCode.Unavailable => StatusCode.Unavailable,
        ManagementErrorCode.DeadlineExceeded => StatusCode.DeadlineExceeded,
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, "unmapped management error code"),
    };

    /// <summary>Returns the value, or throws the <see cref="RpcException"/> that carries the error to the client.</summary>
    public static T ValueOrThrow<T>(this ManagementResult<T> result) =>
        result.IsSuccess
            ? result.Value
            : throw new RpcException(new Status(ToStatusCode(result.Error!.Code), result.Error.Message));
}
