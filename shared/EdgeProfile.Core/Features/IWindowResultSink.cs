namespace EdgeProfile.Core.Features;

/// <summary>
/// Receives window emissions from <see cref="FeatureEngine"/>, synchronously and in order. Implementations must not
/// call back into the engine to change state while receiving.
/// </summary>
public interface IWindowResultSink
{
    /// <summary>One emission.</summary>
    void Emit(WindowResult result);
}
