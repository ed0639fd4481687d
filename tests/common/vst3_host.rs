//! A minimal in-process VST3 host for the integration tests. It loads the plugin the way a DAW
//! does, through the library's own `GetPluginFactory` (exported by `nice_export_vst3!`, linked
//! from the rlib, so no bundle is needed), and drives nice-plug's real VST3 wrapper: component
//! and edit controller, bus arrangement, `setupProcessing`, `setActive`, `setProcessing`, and
//! `process` calls with host parameter changes and a per-call `ProcessData::processMode`.
//!
//! Interfaces and call order follow the VST3 SDK headers (`ivstcomponent.h`,
//! `ivstaudioprocessor.h`, `ivsteditcontroller.h`, `ivstparameterchanges.h`) and the SDK's own
//! hosting helpers: a single-component plugin answers `getControllerClassId` with no class, and
//! the host then queries `IEditController` from the component itself.

// Not every test uses every helper.
#![allow(dead_code)]

use std::cell::RefCell;
use std::ffi::{c_void, CStr};
use std::ptr;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::sync::Arc;

use vst3::Steinberg::Vst::{
    AudioBusBuffers, AudioBusBuffers__type0, IAudioProcessor, IAudioProcessorTrait, IComponent,
    IComponentHandler, IComponentHandler2, IComponentHandler2Trait, IComponentHandlerTrait,
    IComponentTrait, IEditController, IEditControllerTrait, IParamValueQueue,
    IParamValueQueueTrait, IParameterChanges, IParameterChangesTrait, ParamID, ParamValue,
    ProcessData, ProcessModes_, ProcessSetup, SpeakerArr, SpeakerArrangement, SymbolicSampleSizes_,
};
use vst3::Steinberg::{
    int32, int64, kNotImplemented, kPlatformTypeX11EmbedWindowID, kResultFalse, kResultOk, tresult,
    FIDString, IBStream, IBStreamTrait, IBStream_, IPlugView, IPlugViewTrait, IPluginBaseTrait,
    IPluginFactory, IPluginFactoryTrait, PClassInfo, TBool, TUID,
};
use vst3::{Class, ComPtr, ComWrapper, Interface};

/// A `ProcessModes` value as `ProcessSetup::processMode` and `ProcessData::processMode` carry
/// it (`int32`; the bindings' enum type is unsigned on some targets).
pub type Mode = int32;
pub const REALTIME: Mode = ProcessModes_::kRealtime as Mode;
pub const PREFETCH: Mode = ProcessModes_::kPrefetch as Mode;
pub const OFFLINE: Mode = ProcessModes_::kOffline as Mode;
const SAMPLE_32: int32 = SymbolicSampleSizes_::kSample32 as int32;

/// `kVstAudioEffectClass` (VST3 SDK `ivstaudioprocessor.h`): the factory category of a
/// component with an audio processor.
const AUDIO_EFFECT_CLASS: &str = "Audio Module Class";

/// The VST3 parameter ID nice-plug gives a string parameter ID: the Java-style 31-multiplier
/// string hash with the top bit cleared, since VST3 reserves IDs with it set for the host
/// ("Parameters and Automation", VST3 developer docs). Restated here so a change of the scheme
/// (which would break saved automation in every host) fails the tests.
pub fn param_id(string_id: &str) -> ParamID {
    let mut hash: u32 = 0;
    for byte in string_id.bytes() {
        hash = hash.wrapping_mul(31).wrapping_add(byte as u32);
    }
    hash & !(1 << 31)
}

/// One parameter's points for one process call (`IParamValueQueue`).
struct ParamQueue {
    id: ParamID,
    points: Vec<(int32, ParamValue)>,
}

impl Class for ParamQueue {
    type Interfaces = (IParamValueQueue,);
}

impl IParamValueQueueTrait for ParamQueue {
    unsafe fn getParameterId(&self) -> ParamID {
        self.id
    }

    unsafe fn getPointCount(&self) -> int32 {
        self.points.len() as int32
    }

    unsafe fn getPoint(
        &self,
        index: int32,
        sample_offset: *mut int32,
        value: *mut ParamValue,
    ) -> tresult {
        match usize::try_from(index).ok().and_then(|i| self.points.get(i)) {
            Some(&(offset, v)) if !sample_offset.is_null() && !value.is_null() => {
                // SAFETY: both out-pointers are non-null (matched above), and `getPoint`'s contract
                // has the caller (the plugin) pass writable `int32` and `ParamValue` locations.
                unsafe {
                    *sample_offset = offset;
                    *value = v;
                }
                kResultOk
            }
            _ => kResultFalse,
        }
    }

    unsafe fn addPoint(
        &self,
        _sample_offset: int32,
        _value: ParamValue,
        _index: *mut int32,
    ) -> tresult {
        // Input queues are the host's; the plugin only reads them.
        kResultFalse
    }
}

/// The host's parameter changes for one process call (`IParameterChanges`), one queue per
/// parameter as the SDK requires. Built before the call, so the plugin's reads allocate nothing.
struct ParamChanges {
    queues: Vec<ComWrapper<ParamQueue>>,
}

impl Class for ParamChanges {
    type Interfaces = (IParameterChanges,);
}

impl ParamChanges {
    fn new(changes: &[(ParamID, ParamValue)]) -> Self {
        let mut queues: Vec<ParamQueue> = Vec::new();
        for &(id, value) in changes {
            match queues.iter_mut().find(|q| q.id == id) {
                Some(queue) => queue.points.push((0, value)),
                None => queues.push(ParamQueue {
                    id,
                    points: vec![(0, value)],
                }),
            }
        }
        Self {
            queues: queues.into_iter().map(ComWrapper::new).collect(),
        }
    }
}

impl IParameterChangesTrait for ParamChanges {
    unsafe fn getParameterCount(&self) -> int32 {
        self.queues.len() as int32
    }

    unsafe fn getParameterData(&self, index: int32) -> *mut IParamValueQueue {
        match usize::try_from(index).ok().and_then(|i| self.queues.get(i)) {
            Some(queue) => queue
                .as_com_ref::<IParamValueQueue>()
                .map_or(ptr::null_mut(), |r| r.as_ptr()),
            None => ptr::null_mut(),
        }
    }

    unsafe fn addParameterData(
        &self,
        _id: *const ParamID,
        _index: *mut int32,
    ) -> *mut IParamValueQueue {
        ptr::null_mut()
    }
}

/// The host side of the controller's edits (`IComponentHandler`, and `IComponentHandler2` for
/// `setDirty`). nice-plug sends latency restarts through it, and the plugin's editor (when a
/// test opens it) its parameter edits and dirty marks. What the plugin calls is counted in
/// atomics (`restartComponent` flags OR-ed into one), never allocating: the plugin may call it
/// from inside `process` (this host runs everything on one thread, which nice-plug takes for
/// the main thread), where allocating would abort, and from its editor's and event loop's
/// threads.
struct ComponentHandler {
    restarts: Arc<AtomicI32>,
    counts: Arc<HandlerCounts>,
}

/// What the plugin called on the host's component handler.
#[derive(Debug, Default)]
pub struct HandlerCounts {
    /// `beginEdit`, `performEdit` and `endEdit` calls (the editor's parameter gestures).
    pub edits: AtomicU32,
    /// `IComponentHandler2::setDirty(true)` calls.
    pub dirty: AtomicU32,
}

impl Class for ComponentHandler {
    type Interfaces = (IComponentHandler, IComponentHandler2);
}

impl IComponentHandlerTrait for ComponentHandler {
    unsafe fn beginEdit(&self, _id: ParamID) -> tresult {
        self.counts.edits.fetch_add(1, Ordering::SeqCst);
        kResultOk
    }

    unsafe fn performEdit(&self, _id: ParamID, _value: ParamValue) -> tresult {
        self.counts.edits.fetch_add(1, Ordering::SeqCst);
        kResultOk
    }

    unsafe fn endEdit(&self, _id: ParamID) -> tresult {
        self.counts.edits.fetch_add(1, Ordering::SeqCst);
        kResultOk
    }

    unsafe fn restartComponent(&self, flags: int32) -> tresult {
        self.restarts.fetch_or(flags, Ordering::SeqCst);
        kResultOk
    }
}

/// `ivsteditcontroller.h`: "Extended host callback interface `IComponentHandler2` for an edit
/// controller", queried from the component handler. Only `setDirty` is answered.
impl IComponentHandler2Trait for ComponentHandler {
    unsafe fn setDirty(&self, state: TBool) -> tresult {
        if state != 0 {
            self.counts.dirty.fetch_add(1, Ordering::SeqCst);
        }
        kResultOk
    }

    unsafe fn requestOpenEditor(&self, _name: FIDString) -> tresult {
        kNotImplemented
    }

    unsafe fn startGroupEdit(&self) -> tresult {
        kNotImplemented
    }

    unsafe fn finishGroupEdit(&self) -> tresult {
        kNotImplemented
    }
}

/// `RestartFlags::kLatencyChanged` (`ivsteditcontroller.h`).
pub const LATENCY_CHANGED: int32 = vst3::Steinberg::Vst::RestartFlags_::kLatencyChanged as int32;

/// A host's memory stream (`IBStream`), as DAWs hand one to `getState`/`setState`.
struct MemoryStream {
    data: RefCell<Vec<u8>>,
    position: RefCell<usize>,
}

impl Class for MemoryStream {
    type Interfaces = (IBStream,);
}

impl IBStreamTrait for MemoryStream {
    unsafe fn read(&self, buffer: *mut c_void, num_bytes: int32, num_read: *mut int32) -> tresult {
        let data = self.data.borrow();
        let mut position = self.position.borrow_mut();
        let n = (num_bytes.max(0) as usize).min(data.len() - *position);
        // SAFETY: the caller passes a buffer of at least `num_bytes` bytes (IBStream contract);
        // `n <= num_bytes` and the source range lies inside `data`.
        unsafe { ptr::copy_nonoverlapping(data[*position..].as_ptr(), buffer.cast::<u8>(), n) };
        *position += n;
        if !num_read.is_null() {
            // SAFETY: non-null out-pointer from the caller.
            unsafe { *num_read = n as int32 };
        }
        kResultOk
    }

    unsafe fn write(&self, buffer: *mut c_void, num_bytes: int32, written: *mut int32) -> tresult {
        let n = num_bytes.max(0) as usize;
        // SAFETY: the caller passes `num_bytes` readable bytes (IBStream contract).
        let bytes = unsafe { std::slice::from_raw_parts(buffer.cast::<u8>(), n) };
        let mut data = self.data.borrow_mut();
        let mut position = self.position.borrow_mut();
        let end = *position + n;
        if data.len() < end {
            data.resize(end, 0);
        }
        data[*position..end].copy_from_slice(bytes);
        *position = end;
        if !written.is_null() {
            // SAFETY: non-null out-pointer from the caller.
            unsafe { *written = n as int32 };
        }
        kResultOk
    }

    unsafe fn seek(&self, pos: int64, mode: int32, result: *mut int64) -> tresult {
        let len = self.data.borrow().len() as int64;
        let base = match mode {
            m if m == IBStream_::IStreamSeekMode_::kIBSeekSet as int32 => 0,
            m if m == IBStream_::IStreamSeekMode_::kIBSeekCur as int32 => {
                *self.position.borrow() as int64
            }
            m if m == IBStream_::IStreamSeekMode_::kIBSeekEnd as int32 => len,
            _ => return kResultFalse,
        };
        let new = (base + pos).clamp(0, len);
        *self.position.borrow_mut() = new as usize;
        if !result.is_null() {
            // SAFETY: non-null out-pointer from the caller.
            unsafe { *result = new };
        }
        kResultOk
    }

    unsafe fn tell(&self, pos: *mut int64) -> tresult {
        if pos.is_null() {
            return kResultFalse;
        }
        // SAFETY: non-null out-pointer from the caller.
        unsafe { *pos = *self.position.borrow() as int64 };
        kResultOk
    }
}

/// One stereo plugin instance, set up and processing.
pub struct Vst3TestHost {
    component: ComPtr<IComponent>,
    processor: ComPtr<IAudioProcessor>,
    controller: ComPtr<IEditController>,
    _handler: ComWrapper<ComponentHandler>,
    restarts: Arc<AtomicI32>,
    counts: Arc<HandlerCounts>,
    /// The plugin's editor, while [`Self::open_editor_x11`] has it attached.
    view: Option<ComPtr<IPlugView>>,
    active: bool,
    processing: bool,
    max_block: usize,
    input: [Vec<f32>; 2],
}

impl Vst3TestHost {
    /// Creates the plugin from its factory and runs the host's setup sequence up to
    /// `setProcessing(true)`, with `setup_mode` in `setupProcessing`.
    pub fn new(sample_rate: f64, max_block: usize, setup_mode: Mode) -> Self {
        let mut host = Self::new_unprepared(max_block);
        host.setup_processing(sample_rate, setup_mode);
        host.activate();
        host
    }

    /// Creates and initialises the plugin, sets its handler and a stereo bus arrangement, and
    /// stops before `setupProcessing` (a DAW restores a session's state here).
    pub fn new_unprepared(max_block: usize) -> Self {
        // SAFETY: the VST3 calls below follow the SDK's hosting sequence on live COM objects.
        // `GetPluginFactory` returns a new owned `IPluginFactory` reference (nice-plug's
        // `into_raw`), adopted by `from_raw`; `createInstance` writes an owned `IComponent`
        // reference to `obj`, likewise adopted. Every pointer argument points to a live local
        // (`info`, `cid`, the IID, `obj`, `controller_cid`, the speaker arrays) or to
        // `handler`, which `Self` keeps alive until `Drop` detaches it. `PClassInfo` is plain C
        // data (integers and char arrays), so zeroing it is valid, and its `category` stays
        // NUL-terminated: zeroed, then filled by nice-plug's `strlcpy`.
        unsafe {
            let factory = ComPtr::<IPluginFactory>::from_raw(fairmaster::GetPluginFactory().cast())
                .expect("GetPluginFactory returned null");

            let mut cid: Option<TUID> = None;
            for index in 0..factory.countClasses() {
                let mut info: PClassInfo = std::mem::zeroed();
                assert_eq!(factory.getClassInfo(index, &mut info), kResultOk);
                let category = CStr::from_ptr(info.category.as_ptr()).to_string_lossy();
                if category == AUDIO_EFFECT_CLASS {
                    cid = Some(info.cid);
                }
            }
            let cid = cid.expect("the factory lists no audio effect class");

            let mut obj: *mut c_void = ptr::null_mut();
            assert_eq!(
                factory.createInstance(
                    cid.as_ptr(),
                    IComponent::IID.as_ptr() as *const _,
                    &mut obj
                ),
                kResultOk
            );
            let component =
                ComPtr::<IComponent>::from_raw(obj.cast()).expect("createInstance gave null");
            assert_eq!(component.initialize(ptr::null_mut()), kResultOk);

            // Single-component plugin: no separate controller class, the component is the
            // controller.
            let mut controller_cid: TUID = [0; 16];
            assert_ne!(
                component.getControllerClassId(&mut controller_cid),
                kResultOk
            );
            let controller = component
                .cast::<IEditController>()
                .expect("the component is not an IEditController");
            let restarts = Arc::new(AtomicI32::new(0));
            let counts = Arc::new(HandlerCounts::default());
            let handler = ComWrapper::new(ComponentHandler {
                restarts: restarts.clone(),
                counts: counts.clone(),
            });
            let handler_ptr = handler
                .as_com_ref::<IComponentHandler>()
                .expect("handler interface")
                .as_ptr();
            assert_eq!(controller.setComponentHandler(handler_ptr), kResultOk);

            let processor = component
                .cast::<IAudioProcessor>()
                .expect("the component is not an IAudioProcessor");
            let mut stereo: [SpeakerArrangement; 1] = [SpeakerArr::kStereo];
            let mut stereo_out: [SpeakerArrangement; 1] = [SpeakerArr::kStereo];
            assert_eq!(
                processor.setBusArrangements(stereo.as_mut_ptr(), 1, stereo_out.as_mut_ptr(), 1),
                kResultOk
            );

            Self {
                component,
                processor,
                controller,
                _handler: handler,
                restarts,
                counts,
                view: None,
                active: false,
                processing: false,
                max_block,
                input: [vec![0.0; max_block], vec![0.0; max_block]],
            }
        }
    }

    /// `IAudioProcessor::setupProcessing` (inactive; 32-bit float, this host's block size).
    pub fn setup_processing(&mut self, sample_rate: f64, mode: Mode) {
        let mut setup = ProcessSetup {
            processMode: mode,
            symbolicSampleSize: SAMPLE_32,
            maxSamplesPerBlock: self.max_block as int32,
            sampleRate: sample_rate,
        };
        // SAFETY: `self.processor` is live; `setup` is a live local.
        let result = unsafe { self.processor.setupProcessing(&mut setup) };
        assert_eq!(result, kResultOk);
    }

    /// `IComponent::setActive(true)` then `IAudioProcessor::setProcessing(true)`.
    pub fn activate(&mut self) {
        // SAFETY: live interfaces; the calls take no pointers.
        unsafe {
            assert_eq!(self.component.setActive(1), kResultOk);
            assert_eq!(self.processor.setProcessing(1), kResultOk);
        }
        self.active = true;
        self.processing = true;
    }

    /// `setProcessing(false)` then `setActive(false)`.
    pub fn deactivate(&mut self) {
        // SAFETY: live interfaces; the calls take no pointers.
        unsafe {
            if self.processing {
                self.processor.setProcessing(0);
            }
            self.component.setActive(0);
        }
        self.active = false;
        self.processing = false;
    }

    /// What the plugin called on the component handler so far.
    pub fn handler_counts(&self) -> &HandlerCounts {
        &self.counts
    }

    /// Opens the plugin's editor (`IEditController::createView("editor")`) embedded in the X11
    /// window `parent` (`IPlugView::attached` with `kPlatformTypeX11EmbedWindowID`). This host
    /// gives the view no `IPlugFrame`, so no `IRunLoop`: nice-plug runs its main-thread tasks on
    /// its own event loop thread. Returns why not, if the plugin refuses a step.
    pub fn open_editor_x11(&mut self, parent: u64) -> Result<(), String> {
        // SAFETY: `self.controller` is live; `createView` takes a NUL-terminated view name
        // (`ViewType::kEditor`, "editor") and returns an owned `IPlugView` reference or null,
        // adopted by `from_raw`; the platform type is the SDK's NUL-terminated constant;
        // `parent` is an X11 window id, which `attached` takes cast to a pointer for this
        // platform type.
        unsafe {
            let view = self.controller.createView(c"editor".as_ptr());
            let view = ComPtr::<IPlugView>::from_raw(view).ok_or("createView gave no view")?;
            if view.isPlatformTypeSupported(kPlatformTypeX11EmbedWindowID) != kResultOk {
                return Err("X11 not supported".into());
            }
            if view.attached(
                parent as usize as *mut c_void,
                kPlatformTypeX11EmbedWindowID,
            ) != kResultOk
            {
                return Err("IPlugView::attached failed".into());
            }
            self.view = Some(view);
        }
        Ok(())
    }

    /// Closes the editor opened by [`Self::open_editor_x11`] (`IPlugView::removed`) and
    /// releases the view.
    pub fn close_editor(&mut self) {
        if let Some(view) = self.view.take() {
            // SAFETY: `view` is the live view `open_editor_x11` attached.
            unsafe { view.removed() };
        }
    }

    /// The `restartComponent` flags the plugin sent since the last call, OR-ed.
    pub fn take_restart_requests(&self) -> int32 {
        self.restarts.swap(0, Ordering::SeqCst)
    }

    /// Does what a DAW does on `restartComponent(kLatencyChanged)` while active: deactivates
    /// and reactivates the component (it then reads the latency again). Returns whether one
    /// was asked for.
    pub fn handle_latency_restart(&mut self) -> bool {
        let asked = self.take_restart_requests() & LATENCY_CHANGED != 0;
        if asked && self.active {
            self.deactivate();
            self.activate();
        }
        asked
    }

    /// `IComponent::getState` into a memory stream.
    pub fn save_state(&self) -> Vec<u8> {
        let stream = ComWrapper::new(MemoryStream {
            data: RefCell::new(Vec::new()),
            position: RefCell::new(0),
        });
        let ptr = stream.as_com_ref::<IBStream>().expect("stream").as_ptr();
        // SAFETY: `self.component` is live; `ptr` points to `stream`, alive for the call.
        assert_eq!(unsafe { self.component.getState(ptr) }, kResultOk);
        let data = stream.data.borrow().clone();
        data
    }

    /// `IComponent::setState` from a memory stream holding `bytes`.
    pub fn load_state(&mut self, bytes: &[u8]) -> tresult {
        let stream = ComWrapper::new(MemoryStream {
            data: RefCell::new(bytes.to_vec()),
            position: RefCell::new(0),
        });
        let ptr = stream.as_com_ref::<IBStream>().expect("stream").as_ptr();
        // SAFETY: `self.component` is live; `ptr` points to `stream`, alive for the call.
        unsafe { self.component.setState(ptr) }
    }

    /// `IAudioProcessor::getLatencySamples`.
    pub fn latency(&self) -> usize {
        // SAFETY: `self.processor` is a live `IAudioProcessor` reference this host owns (released
        // on drop); the call takes no pointers.
        unsafe { self.processor.getLatencySamples() as usize }
    }

    /// `IAudioProcessor::setProcessing`.
    pub fn set_processing(&mut self, on: bool) {
        // SAFETY: `self.processor` is a live `IAudioProcessor` reference of the component that
        // `new` set active; the call takes no pointers.
        assert_eq!(unsafe { self.processor.setProcessing(on as u8) }, kResultOk);
        self.processing = on;
    }

    /// One `process` call on `left`/`right` (the input, replaced by the output; separate host
    /// input and output buffers, as most hosts use), flagged `mode`, with `changes` (parameter,
    /// normalized value) at sample 0.
    pub fn process(
        &mut self,
        mode: Mode,
        left: &mut [f32],
        right: &mut [f32],
        changes: &[(ParamID, ParamValue)],
    ) {
        let n = left.len();
        assert!(n == right.len() && n <= self.max_block);
        self.input[0][..n].copy_from_slice(left);
        self.input[1][..n].copy_from_slice(right);
        let changes = ComWrapper::new(ParamChanges::new(changes));
        let mut in_ptrs = [self.input[0].as_mut_ptr(), self.input[1].as_mut_ptr()];
        let mut out_ptrs = [left.as_mut_ptr(), right.as_mut_ptr()];
        let mut inputs = AudioBusBuffers {
            numChannels: 2,
            silenceFlags: 0,
            __field0: AudioBusBuffers__type0 {
                channelBuffers32: in_ptrs.as_mut_ptr(),
            },
        };
        let mut outputs = AudioBusBuffers {
            numChannels: 2,
            silenceFlags: 0,
            __field0: AudioBusBuffers__type0 {
                channelBuffers32: out_ptrs.as_mut_ptr(),
            },
        };
        let mut data = ProcessData {
            processMode: mode,
            symbolicSampleSize: SAMPLE_32,
            numSamples: n as int32,
            numInputs: 1,
            numOutputs: 1,
            inputs: &mut inputs,
            outputs: &mut outputs,
            inputParameterChanges: changes
                .as_com_ref::<IParameterChanges>()
                .expect("parameter changes interface")
                .as_ptr(),
            outputParameterChanges: ptr::null_mut(),
            inputEvents: ptr::null_mut(),
            outputEvents: ptr::null_mut(),
            processContext: ptr::null_mut(),
        };
        // SAFETY: `self.processor` is live and set up and active (`new`). `data` and all it points
        // to outlive the call: `inputs`/`outputs` hold two channel pointers each, to `self.input`
        // (`max_block >= n` frames) and to `left`/`right` (`n` frames, checked above), and
        // `inputParameterChanges` points to `changes`, a live COM object.
        assert_eq!(unsafe { self.processor.process(&mut data) }, kResultOk);
    }

    /// Processes `left`/`right` in `block`-frame calls flagged `mode`, with `changes` in the
    /// first call.
    pub fn process_in_blocks(
        &mut self,
        mode: Mode,
        left: &mut [f32],
        right: &mut [f32],
        block: usize,
        changes: &[(ParamID, ParamValue)],
    ) {
        for (k, (l, r)) in left
            .chunks_mut(block)
            .zip(right.chunks_mut(block))
            .enumerate()
        {
            self.process(mode, l, r, if k == 0 { changes } else { &[] });
        }
    }

    /// `IEditController::getParamNormalized`.
    pub fn param_normalized(&self, id: ParamID) -> ParamValue {
        // SAFETY: `self.controller` is a live `IEditController` reference this host owns; the call
        // takes no pointers.
        unsafe { self.controller.getParamNormalized(id) }
    }

    /// `IEditController::setParamNormalized`.
    pub fn set_param_normalized(&self, id: ParamID, value: ParamValue) -> tresult {
        // SAFETY: as in `param_normalized`: `self.controller` is live and the call takes no
        // pointers.
        unsafe { self.controller.setParamNormalized(id, value) }
    }

    /// `IEditController::plainParamToNormalized`: the plugin's own mapping, as a host uses it.
    pub fn plain_to_normalized(&self, id: ParamID, plain: f64) -> ParamValue {
        // SAFETY: as in `param_normalized`: `self.controller` is live and the call takes no
        // pointers.
        unsafe { self.controller.plainParamToNormalized(id, plain) }
    }
}

impl Drop for Vst3TestHost {
    fn drop(&mut self) {
        // The editor goes first, while the controller it belongs to is fully set up.
        self.close_editor();
        // SAFETY: the SDK's teardown order on interfaces that are still live (the `ComPtr` fields
        // are released only after this): stop processing if on, deactivate, detach the handler
        // (null is accepted: nice-plug then drops its reference) while `_handler` is still alive,
        // then `terminate`.
        unsafe {
            if self.processing {
                self.processor.setProcessing(0);
            }
            if self.active {
                self.component.setActive(0);
            }
            self.controller.setComponentHandler(ptr::null_mut());
            self.component.terminate();
        }
    }
}
