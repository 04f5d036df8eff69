namespace Headscale.Api.Management;

/// <summary>
/// Why a management command failed. Each code maps to exactly one gRPC status (and through
/// transcoding to one HTTP status) in <see cref="ManagementStatusMapping"/>.
/// </summary>
public enum ManagementErrorCode
{
    /// <summary>Headscale's catch-all: most of its plain errors reach clients as gRPC Unknown / HTTP 500.</summary>
    Unknown,
    InvalidArgument,
    NotFound,
    AlreadyExists,
    FailedPrecondition,
    PermissionDenied,
    /// <summary>The backend for this method does not exist (yet). Never answered with made-up data.</summary>
    Unimplemented,
    Unavailable,
    DeadlineExceeded,
}

/// <summary>An expected failure of a management command: a code and a message for the client.</summary>
public sealed record ManagementError(ManagementErrorCode Code, string Message)
{
    public static ManagementError InvalidArgument(string message) => new(ManagementErrorCode.InvalidArgument, message);
    public static ManagementError NotFound(string message) => new(ManagementErrorCode.NotFound, message);
    public static ManagementError AlreadyExists(string message) => new(ManagementErrorCode.AlreadyExists, message);
    public static ManagementError FailedPrecondition(string message) => new(ManagementErrorCode.FailedPrecondition, message);
    public static ManagementError Unknown(string message) => new(ManagementErrorCode.Unknown, message);
    public static ManagementError Unimplemented(string method) =>
        new(ManagementErrorCode.Unimplemented, $"{method} is not implemented by this server yet");
}

/// <summary>
/// The outcome of a management command: either a value or a <see cref="ManagementError"/>.
/// Facades return it instead of throwing for every expected failure.
/// </summary>
public readonly struct ManagementResult<T>
{
    private readonly T? _value;

    private ManagementResult(T? value, ManagementError? error)
    {
        _value = value;
        Error = error;
    }

    public ManagementError? Error { get; }

    public bool IsSuccess => Error is null;

    /// <summary>The value; only valid when <see cref="IsSuccess"/>.</summary>
    public T Value => IsSuccess ? _value! : throw new InvalidOperationException($"The result is an error: {Error}");

    public static ManagementResult<T> Success(T value) => new(value, null);

    public static ManagementResult<T> Failure(ManagementError error) =>
        new(default, error ?? throw new ArgumentNullException(nameof(error)));

    public static implicit operator ManagementResult<T>(T value) => Success(value);

    public static implicit operator ManagementResult<T>(ManagementError error) => Failure(error);

    public ManagementResult<TOut> Map<TOut>(Func<T, TOut> map) =>
        IsSuccess ? ManagementResult<TOut>.Success(map(_value!)) : ManagementResult<TOut>.Failure(Error!);
}
