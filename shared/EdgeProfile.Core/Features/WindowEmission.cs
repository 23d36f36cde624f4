namespace EdgeProfile.Core.Features;

/// <summary>
/// The kind of a <see cref="WindowResult"/>. A window (customer, definition, start, end) is emitted
/// <see cref="Final"/> exactly once, first; then zero or more <see cref="Update"/>s; a session window that vanished
/// by merging ends with one <see cref="Retract"/> and never comes back.
/// </summary>
public enum WindowEmission
{
    /// <summary>The watermark passed the window end: the window's first emission.</summary>
    Final,

    /// <summary>An accepted event within the allowed lateness changed a window already emitted.</summary>
    Update,

    /// <summary>A session window emitted before no longer exists (it merged into another); forget it.</summary>
    Retract,
}
