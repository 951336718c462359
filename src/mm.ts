import { tf } from './tensor/tf.js';
import { selectBackend } from './tensor/backend.js';
await selectBackend('wasm');
const B=128;
for (const tb of [false, true]) {
const mk=(o:number,i:number)=>tf.variable(tf.randomNormal(tb?[o,i]:[i,o],0,0.05));
const W1=mk(400,784),b1=tf.variable(tf.zeros([400])),W2=mk(400,400),b2=tf.variable(tf.zeros([400])),W3=mk(10,400),b3=tf.variable(tf.zeros([10]));
const x=tf.randomUniform([B,784]); const y=tf.oneHot(tf.randomUniform([B],0,10,'int32'),10);
const vars=[W1,b1,W2,b2,W3,b3];
const ts:number[]=[];
for(let i=0;i<40;i++){ const t0=performance.now();
 tf.tidy(()=>{ const {value,grads}=tf.variableGrads(()=>{ const h=tf.relu(tf.add(tf.matMul(x,W1,false,tb),b1)); const h2=tf.relu(tf.add(tf.matMul(h,W2,false,tb),b2)); const l=tf.add(tf.matMul(h2,W3,false,tb),b3); return tf.losses.softmaxCrossEntropy(y,l) as tf.Scalar;});
 for(const v of vars){ v.assign(tf.sub(v, tf.mul(grads[v.name], 0.01))); } });
 ts.push(performance.now()-t0);}
ts.sort((a,b)=>a-b); console.log('transposeB', tb, 'median ms', ts[20].toFixed(1));
}
